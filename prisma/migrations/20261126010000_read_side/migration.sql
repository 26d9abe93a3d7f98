-- The read side (DESIGN §5): projector checkpoints, the address_view read model, and the Postgres
-- search index (the default search backend when no Meilisearch is configured).

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- unaccent() is only STABLE (its result depends on which dictionary the search path finds), so
-- it cannot appear in an index expression. Naming the dictionary explicitly makes the result
-- fixed, which is what IMMUTABLE promises; lower() is folded in because every use wants both.
CREATE FUNCTION "ledger_fold"(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;

-- One row per projection. `cursor` is the gap-safe "<transaction id>-<position>" pair of the last
-- event applied (see domain/event-store/cursor.ts); it is written in the same transaction as the
-- read-model rows it covers, or, for an external index, only after the index confirmed the write.
CREATE TABLE "projection_checkpoints" (
  "name"             TEXT PRIMARY KEY,
  "cursor"           TEXT NOT NULL DEFAULT '0-0',
  "position"         BIGINT NOT NULL DEFAULT 0,
  "events_processed" BIGINT NOT NULL DEFAULT 0,
  "updated_at"       TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "last_error"       TEXT,
  "last_error_at"    TIMESTAMPTZ(6),
  "error_count"      INTEGER NOT NULL DEFAULT 0,
  "worker_id"        TEXT,
  "heartbeat_at"     TIMESTAMPTZ(6)
);

INSERT INTO "projection_checkpoints" ("name") VALUES ('address_view'), ('address_search');

-- Current state of every address. `version` is the stream version of the last event applied:
-- the writer only replaces a row with a strictly newer version, which makes replays no-ops.
CREATE TABLE "address_view" (
  "address_id"      TEXT PRIMARY KEY,
  "stream_id"       TEXT NOT NULL,
  "version"         INTEGER NOT NULL,
  "status"          TEXT NOT NULL CHECK ("status" IN ('active', 'archived')),
  "line1"           TEXT NOT NULL,
  "line2"           TEXT,
  "city"            TEXT NOT NULL,
  "region"          TEXT,
  "postal_code"     TEXT NOT NULL,
  "country"         TEXT NOT NULL,
  "owner"           TEXT,
  "archived_reason" TEXT,
  "registered_at"   TIMESTAMPTZ(6) NOT NULL,
  "updated_at"      TIMESTAMPTZ(6) NOT NULL,
  "last_event_type" TEXT NOT NULL,
  "last_position"   BIGINT NOT NULL,
  "last_actor_id"   TEXT NOT NULL,
  "last_actor_name" TEXT NOT NULL,
  "last_actor_role" TEXT NOT NULL
);

CREATE INDEX "address_view_updated_at_idx" ON "address_view" ("updated_at" DESC, "address_id");

-- The Postgres search index: one document per address, written by the `address_search`
-- projection. `doc` is the whole read-model document (the projection folds the next event onto
-- it); the other columns exist to filter, sort, facet and match.
--   search_primary:   normalised words of line1/line2 plus street-type synonyms (weight A)
--   search_secondary: normalised city, region, postal code, country, owner (weight B)
-- (both computed by projections/search/normalize.ts, so the query side folds text identically)
CREATE TABLE "address_search" (
  "id"               TEXT PRIMARY KEY,
  "version"          INTEGER NOT NULL,
  "status"           TEXT NOT NULL,
  "city"             TEXT NOT NULL,
  "region"           TEXT,
  "postal_code"      TEXT NOT NULL,
  "country"          TEXT NOT NULL,
  "updated_at"       TIMESTAMPTZ(6) NOT NULL,
  "doc"              JSONB NOT NULL,
  "search_primary"   TEXT NOT NULL,
  "search_secondary" TEXT NOT NULL,
  "search_text"      TEXT GENERATED ALWAYS AS ("search_primary" || ' ' || "search_secondary") STORED,
  "search_tsv"       TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, "search_primary"), 'A') ||
    setweight(to_tsvector('simple'::regconfig, "search_secondary"), 'B')
  ) STORED
);

CREATE INDEX "address_search_tsv_idx" ON "address_search" USING gin ("search_tsv");
CREATE INDEX "address_search_trgm_idx" ON "address_search" USING gin ("search_text" gin_trgm_ops);
CREATE INDEX "address_search_updated_at_idx" ON "address_search" ("updated_at" DESC, "id");
CREATE INDEX "address_search_country_idx" ON "address_search" ("country");
CREATE INDEX "address_search_region_idx" ON "address_search" (ledger_fold("region"));
CREATE INDEX "address_search_city_idx" ON "address_search" (ledger_fold("city"));
CREATE INDEX "address_search_postal_code_idx" ON "address_search" (upper(replace("postal_code", ' ', '')) text_pattern_ops);
