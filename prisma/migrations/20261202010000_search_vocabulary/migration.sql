-- The Postgres search index's vocabulary: every folded word of `address_search` (search_text:
-- the address lines, the other fields, the alternates) and how many documents hold it. The search
-- looks misspelt query words up in it ("mian" → main, one swap away; "sreet" → street), which
-- trigrams cannot do for short words, and builds "did you mean" from it
-- (projections/search/postgres-search-index.ts, spelling.ts).
--
-- Written by the adapter's upsert in the same statement as the documents (the counts of the
-- replaced version go down, the new one's up), so it needs no trigger: a rebuild copy made with
-- `LIKE … INCLUDING ALL` carries no triggers, and is rebuilt and swapped beside address_search.
-- A word whose count reached 0 stays as a row with 0 and is ignored.
CREATE TABLE "address_search_words" (
  -- C collation: a btree range scan answers "is this a prefix of a known word".
  "word"      TEXT COLLATE "C" PRIMARY KEY,
  "documents" INTEGER NOT NULL
);

-- For "did you mean" of long words (two edits): pg_trgm similarity narrows the vocabulary first.
CREATE INDEX "address_search_words_trgm_idx" ON "address_search_words" USING gin ("word" gin_trgm_ops);

INSERT INTO "address_search_words" ("word", "documents")
SELECT w, count(*)::int
  FROM (SELECT DISTINCT s."id", w FROM "address_search" s, unnest(string_to_array(s."search_text", ' ')) AS w) x
 WHERE w <> ''
 GROUP BY w;

-- Typos are no longer matched by trigrams over every document's text (a query word common in
-- trigrams, "sreet", made that a scan of most of the table, seconds on 131,650 addresses): the
-- vocabulary's trigram index finds the look-alike words, the tsvector index the documents. The
-- table's own trigram index only cost every write.
DROP INDEX "address_search_trgm_idx";

-- Rebuilt by projections:rebuild like the table it describes (read_model_copy_* accept only these).
INSERT INTO "read_model_tables" ("name") VALUES ('address_search_words');

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;
GRANT SELECT, INSERT, UPDATE, DELETE ON "address_search_words" TO address_ledger_runtime;
