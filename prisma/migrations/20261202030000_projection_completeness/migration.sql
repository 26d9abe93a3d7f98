-- Read models you can prove complete (projections/README.md "Completeness" and "Parked addresses").

-- What each projection has passed, per range of 10,000 global positions: how many events and the
-- sum of a 64-bit hash of their ids (order-independent). Written in the same transaction as the
-- projection's checkpoint; the worker's checker compares it with the same digest of `events`.
CREATE TABLE "projection_digests" (
  "projection"  TEXT NOT NULL,
  -- First position of the range (a multiple of 10,000).
  "range_start" BIGINT NOT NULL,
  "event_count" BIGINT NOT NULL,
  -- sum(hashtextextended(event_id::text, 0)): exact in numeric, so the order never matters.
  "hash_sum"    NUMERIC NOT NULL,
  PRIMARY KEY ("projection", "range_start")
);

-- The checker's last verdict, beside the checkpoint it checked.
ALTER TABLE "projection_checkpoints"
  ADD COLUMN "complete"              BOOLEAN,
  ADD COLUMN "incomplete_range"      BIGINT,
  ADD COLUMN "incomplete_detail"     JSONB,
  ADD COLUMN "completeness_checked_at" TIMESTAMPTZ(6);

-- One row per address stream a projection has parked: applying `event_id` threw, so this stream's
-- later events wait while every other stream keeps projecting. Removed once a retry or skip
-- resumed the stream.
CREATE TABLE "parked_streams" (
  "projection"     TEXT NOT NULL,
  "stream_id"      TEXT NOT NULL,
  "event_id"       UUID NOT NULL,
  "event_type"     TEXT NOT NULL,
  "position"       BIGINT NOT NULL,
  "stream_version" INTEGER NOT NULL,
  "error"          TEXT NOT NULL,
  "attempts"       INTEGER NOT NULL DEFAULT 1,
  "parked_at"      TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  -- An admin's decision the worker has not carried out yet.
  "requested"      TEXT CHECK ("requested" IN ('retry', 'skip')),
  "requested_at"   TIMESTAMPTZ(6),
  PRIMARY KEY ("projection", "stream_id")
);

-- Every retry and skip an admin asked for, append-only like `events`. A skipped event stays
-- skipped in every later replay (the worker and rebuilds read the skips from here).
CREATE TABLE "parked_stream_decisions" (
  "id"          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "projection"  TEXT NOT NULL,
  "stream_id"   TEXT NOT NULL,
  "event_id"    UUID NOT NULL,
  "event_type"  TEXT NOT NULL,
  "position"    BIGINT NOT NULL,
  "action"      TEXT NOT NULL CHECK ("action" IN ('retry', 'skip')),
  "reason"      TEXT,
  "actor_id"    TEXT NOT NULL,
  "actor_name"  TEXT NOT NULL,
  "actor_role"  TEXT NOT NULL,
  "decided_at"  TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  CONSTRAINT "parked_stream_decisions_skip_reason" CHECK ("action" <> 'skip' OR length(btrim(coalesce("reason", ''))) > 0)
);
CREATE INDEX "parked_stream_decisions_skips_idx" ON "parked_stream_decisions" ("projection", "action");

CREATE FUNCTION "parked_stream_decisions_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the parked-stream decisions are append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "parked_stream_decisions_no_update" BEFORE UPDATE ON "parked_stream_decisions"
  FOR EACH ROW EXECUTE FUNCTION "parked_stream_decisions_refuse_change"();
CREATE TRIGGER "parked_stream_decisions_no_delete" BEFORE DELETE ON "parked_stream_decisions"
  FOR EACH ROW EXECUTE FUNCTION "parked_stream_decisions_refuse_change"();
CREATE TRIGGER "parked_stream_decisions_no_truncate" BEFORE TRUNCATE ON "parked_stream_decisions"
  FOR EACH STATEMENT EXECUTE FUNCTION "parked_stream_decisions_refuse_change"();

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;
-- DELETE: a rebuild replaces a projection's digest rows with the ones of its verified copy.
GRANT SELECT, INSERT, UPDATE, DELETE ON "projection_digests" TO address_ledger_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON "parked_streams" TO address_ledger_runtime;
GRANT SELECT, INSERT ON "parked_stream_decisions" TO address_ledger_runtime;
GRANT USAGE ON SEQUENCE "parked_stream_decisions_id_seq" TO address_ledger_runtime;
