-- The city and region filters compare folded text (ledger_fold: lower case, no accents). Written
-- as `ledger_fold(city) = …`, every row the planner checks outside the index (a city filter beside
-- a word the GIN index found, thousands of rows for "Water" in Waterville) calls ledger_fold, a
-- SQL function PostgreSQL cannot inline (it calls the STABLE unaccent), so each call goes through
-- the SQL-function executor: tens of milliseconds per search. Stored folded columns are read like
-- any other column, and their indexes replace the expression indexes.

ALTER TABLE "address_search"
  ADD COLUMN "city_folded" TEXT GENERATED ALWAYS AS (ledger_fold("city")) STORED,
  ADD COLUMN "region_folded" TEXT GENERATED ALWAYS AS (ledger_fold("region")) STORED;

DROP INDEX "address_search_city_idx";
DROP INDEX "address_search_region_idx";
CREATE INDEX "address_search_city_idx" ON "address_search" ("city_folded");
CREATE INDEX "address_search_region_idx" ON "address_search" ("region_folded");



-- No new table or function: the runtime role's grants on address_search (20261201010000) cover
-- the new columns.

-- The address lines alone, for the search's first tier of candidates (every word in the address
-- lines; projections/search/postgres-search-index.ts). search_tsv holds them as weight A, but
-- GIN does not store weights: `search_tsv @@ 'bangor:A'` finds all 11,720 documents holding
-- "bangor" anywhere and rechecks each row for the weight, 70 ms; this index answers it directly.
CREATE INDEX "address_search_primary_tsv_idx" ON "address_search"
  USING gin (to_tsvector('simple'::regconfig, "search_primary"));
ANALYZE "address_search";

-- The vocabulary's counts change on every write (each upsert batch moves the count of every word
-- it touches). At the default fill, each change is a new row version elsewhere plus new entries in
-- both indexes, so after an import the word look-ups of every search wade through hundreds of
-- thousands of dead versions until autovacuum comes: measured on the 131,650-address file with
-- 240,000 dead versions, the whole-address searches went from 14 to 57 ms at the median. Half-full
-- pages let the change stay on its page (a HOT update: no index entry, pruned as the page is read).
-- A rebuild copy (LIKE … INCLUDING ALL) does not inherit this setting; it is written once, in bulk.
ALTER TABLE "address_search_words" SET (fillfactor = 50);
