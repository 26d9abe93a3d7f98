-- Street-type alternates ("St" stored as "street" too) get their own, lowest weight (C), so a word
-- spelt as the user typed it ranks above the same word reached through an abbreviation.

DROP INDEX "address_search_trgm_idx";
DROP INDEX "address_search_tsv_idx";
ALTER TABLE "address_search" DROP COLUMN "search_tsv", DROP COLUMN "search_text";

ALTER TABLE "address_search" ADD COLUMN "search_alternates" TEXT NOT NULL DEFAULT '';
ALTER TABLE "address_search"
  ADD COLUMN "search_text" TEXT GENERATED ALWAYS AS (
    "search_primary" || ' ' || "search_secondary" || ' ' || "search_alternates"
  ) STORED,
  ADD COLUMN "search_tsv" TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, "search_primary"), 'A') ||
    setweight(to_tsvector('simple'::regconfig, "search_secondary"), 'B') ||
    setweight(to_tsvector('simple'::regconfig, "search_alternates"), 'C')
  ) STORED;

CREATE INDEX "address_search_tsv_idx" ON "address_search" USING gin ("search_tsv");
CREATE INDEX "address_search_trgm_idx" ON "address_search" USING gin ("search_text" gin_trgm_ops);

-- Documents written before this migration lack their alternates: have the projector write them again.
UPDATE "projection_checkpoints" SET "cursor" = '0-0', "position" = 0 WHERE "name" = 'address_search';
DELETE FROM "address_search";
