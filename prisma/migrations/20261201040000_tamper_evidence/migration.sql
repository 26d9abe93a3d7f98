-- Tamper evidence (README "Tamper evidence", lib/integrity/): every event carries a SHA-256 chained
-- to the previous event of its stream, and signed seals fix the global order. `npm run verify`
-- checks both.
--
-- The hash is defined over UTF-8 bytes (lib/integrity/chain.ts computes the same bytes in JS), so
-- the database must store UTF-8; the embedded PostgreSQL is initialised that way.
DO $$ BEGIN
  IF current_setting('server_encoding') <> 'UTF8' THEN
    RAISE EXCEPTION 'event hashes are defined over UTF-8; this database is encoded in %', current_setting('server_encoding');
  END IF;
END $$;

-- The canonical encoding of an event, and its hash (lib/integrity/chain.ts `canonicalEventBytes`
-- is the same definition in JS; lib/integrity/chain.int.spec.ts proves both agree):
--   "ledger-event-v1," then, for each field, "<byte length>:<bytes>," (a netstring, so no choice of
--   field contents can make two different events encode to the same bytes), the fields being:
--   prev hash (lowercase hex; empty for a stream's first event), event id (lowercase uuid text),
--   stream id, stream version (decimal), type, schema version (decimal), data and metadata (jsonb's
--   text output: keys sorted by length then bytes, no duplicates, ", " and ": " separators — one
--   text per jsonb value), recorded_at as whole microseconds since 1970-01-01T00:00:00Z (decimal;
--   timestamptz keeps microseconds, an ISO string in JS would keep only milliseconds).
-- IMMUTABLE is honest: convert_to(…, 'UTF8') is a plain copy in a UTF-8 database (checked above),
-- and the interval's epoch does not depend on the time zone setting.
-- PL/pgSQL, not SQL: as a LANGUAGE sql function (each field used twice) it could not be inlined
-- and was planned again on every call, which made appends 30-45% slower (npm run bench); PL/pgSQL
-- keeps its plans for the session and evaluates these as simple expressions.
CREATE FUNCTION "event_hash"(
  p_prev BYTEA, p_event_id UUID, p_stream_id TEXT, p_stream_version INTEGER, p_type TEXT,
  p_schema_version INTEGER, p_data JSONB, p_metadata JSONB, p_recorded_at TIMESTAMPTZ
) RETURNS BYTEA
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  v_prev TEXT := coalesce(encode(p_prev, 'hex'), '');
  v_id   TEXT := p_event_id::TEXT;
  v_ver  TEXT := p_stream_version::TEXT;
  v_sv   TEXT := p_schema_version::TEXT;
  v_data TEXT := p_data::TEXT;
  v_meta TEXT := p_metadata::TEXT;
  v_at   TEXT := (extract(epoch FROM (p_recorded_at - '1970-01-01 00:00:00+00'::TIMESTAMPTZ)) * 1000000)::BIGINT::TEXT;
BEGIN
  RETURN sha256(convert_to(
    'ledger-event-v1,'
    || octet_length(v_prev) || ':' || v_prev || ','
    || octet_length(v_id) || ':' || v_id || ','
    || octet_length(p_stream_id) || ':' || p_stream_id || ','
    || octet_length(v_ver) || ':' || v_ver || ','
    || octet_length(p_type) || ':' || p_type || ','
    || octet_length(v_sv) || ':' || v_sv || ','
    || octet_length(v_data) || ':' || v_data || ','
    || octet_length(v_meta) || ':' || v_meta || ','
    || octet_length(v_at) || ':' || v_at || ',',
    'UTF8'));
END;
$$;

-- The hash lives on the event row rather than in a side table: it is written by the same INSERT
-- (no second index to maintain on the append path, which must stay within 15% of its old speed),
-- and it can never be missing for an event that exists.
ALTER TABLE "events" ADD COLUMN "hash" BYTEA;

-- Seal the events written before the chain existed, in stream order. The immutability trigger
-- refuses UPDATE, so it is switched off for this one statement: inside the migration's
-- transaction, which holds ALTER TABLE's exclusive lock on `events` until commit, so no other
-- session can write (or see the trigger off) meanwhile. A stream with a gap in its versions
-- cannot be chained and fails the migration below, loudly, instead of being sealed with a hole.
ALTER TABLE "events" DISABLE TRIGGER "events_no_update";
WITH RECURSIVE chain AS (
  SELECT e.position, e.stream_id, e.stream_version,
         public.event_hash(NULL, e.event_id, e.stream_id, e.stream_version, e.type, e.schema_version,
                           e.data, e.metadata, e.recorded_at) AS hash
  FROM "events" e WHERE e.stream_version = 1
  UNION ALL
  SELECT e.position, e.stream_id, e.stream_version,
         public.event_hash(c.hash, e.event_id, e.stream_id, e.stream_version, e.type, e.schema_version,
                           e.data, e.metadata, e.recorded_at)
  FROM chain c JOIN "events" e ON e.stream_id = c.stream_id AND e.stream_version = c.stream_version + 1
)
UPDATE "events" SET "hash" = chain.hash FROM chain WHERE "events".position = chain.position;
ALTER TABLE "events" ENABLE TRIGGER "events_no_update";

DO $$
DECLARE v_stream TEXT;
BEGIN
  SELECT stream_id INTO v_stream FROM "events" WHERE "hash" IS NULL LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'stream % has a gap in its versions; its events cannot be chained', v_stream;
  END IF;
END $$;
ALTER TABLE "events" ALTER COLUMN "hash" SET NOT NULL,
  ADD CONSTRAINT "events_hash_length" CHECK (octet_length("hash") = 32);

-- An event inserted around append_events (a script, a test) is chained too. The WHEN clause is
-- evaluated without calling the function, so appends through append_events (which pass the hash)
-- pay nothing for it.
CREATE FUNCTION "events_chain_hash"() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  NEW.hash := public.event_hash(
    (SELECT e.hash FROM public.events e
      WHERE e.stream_id = NEW.stream_id AND e.stream_version = NEW.stream_version - 1),
    NEW.event_id, NEW.stream_id, NEW.stream_version, NEW.type, NEW.schema_version, NEW.data,
    NEW.metadata, NEW.recorded_at);
  RETURN NEW;
END;
$$;
CREATE TRIGGER "events_chain_hash" BEFORE INSERT ON "events"
  FOR EACH ROW WHEN (NEW.hash IS NULL) EXECUTE FUNCTION "events_chain_hash"();

-- append_events as before (same signature, outcomes and one statement), now writing each event's
-- hash in its INSERT: the stream's head is read with its hash under the stream lock, and each
-- event chains to the one before it. SECURITY DEFINER with a pinned search_path so the runtime
-- role (issue 8, section 1) can append through it without any right on `events` itself, and a
-- caller's search_path cannot substitute objects.
CREATE OR REPLACE FUNCTION "append_events"(
  p_stream_id        TEXT,
  p_expected_version INTEGER,
  p_events           JSONB,   -- [{eventId, type, schemaVersion, data, metadata}, ...]
  p_command_id       TEXT,    -- NULL: no idempotency record
  p_request_hash     TEXT,
  p_channel          TEXT
) RETURNS TABLE (outcome TEXT, version INTEGER, "position" TEXT, stored_result JSONB, stored_hash TEXT)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_actual INTEGER;
  v_count  INTEGER := jsonb_array_length(p_events);
  v_last   BIGINT;
  v_result JSONB;
  v_hash   TEXT;
  v_prev   BYTEA;
  v_event  JSONB;
  v_id     UUID;
  v_ver    INTEGER;
BEGIN
  -- Serialise appends to one stream; appends to other streams proceed in parallel.
  PERFORM pg_advisory_xact_lock(hashtextextended(p_stream_id, 0));

  -- Each statement of a volatile function sees what committed before it started, so this sees
  -- the work of a writer we just waited for on the lock. The head's hash is what the next event
  -- chains to.
  SELECT e.stream_version, e.hash INTO v_actual, v_prev
  FROM public.events e WHERE e.stream_id = p_stream_id ORDER BY e.stream_version DESC LIMIT 1;
  v_actual := coalesce(v_actual, 0);
  IF v_actual <> p_expected_version THEN
    RETURN QUERY SELECT 'conflict'::TEXT, v_actual, NULL::TEXT, NULL::JSONB, NULL::TEXT;
    RETURN;
  END IF;

  IF p_command_id IS NOT NULL THEN
    -- Waits for a concurrent transaction holding the same command id, then does nothing if it committed.
    INSERT INTO public.processed_commands (command_id, request_hash, stream_id, result)
    VALUES (p_command_id, p_request_hash, p_stream_id, '{}'::JSONB)
    ON CONFLICT (command_id) DO NOTHING;
    IF NOT FOUND THEN
      SELECT pc.result, pc.request_hash INTO v_result, v_hash
      FROM public.processed_commands pc WHERE pc.command_id = p_command_id;
      RETURN QUERY SELECT 'already_processed'::TEXT, NULL::INTEGER, NULL::TEXT, v_result, v_hash;
      RETURN;
    END IF;
  END IF;

  -- One INSERT per event: each hash depends on the one before it. A command has one event in
  -- nearly every case, so this is the single INSERT it always was.
  FOR i IN 0 .. v_count - 1 LOOP
    v_event := p_events -> i;
    v_id := (v_event->>'eventId')::UUID;
    v_ver := p_expected_version + i + 1;
    -- recorded_at is written explicitly so the hash covers exactly the stored value.
    INSERT INTO public.events (stream_id, stream_version, event_id, type, schema_version, data, metadata,
                               recorded_at, hash)
    VALUES (p_stream_id, v_ver, v_id, v_event->>'type', (v_event->>'schemaVersion')::INTEGER,
            v_event->'data', v_event->'metadata', now(),
            public.event_hash(v_prev, v_id, p_stream_id, v_ver, v_event->>'type',
                              (v_event->>'schemaVersion')::INTEGER, v_event->'data', v_event->'metadata', now()))
    RETURNING events.position, events.hash INTO v_last, v_prev;
  END LOOP;
  IF v_count > 0 THEN
    -- Delivered on commit only, so the projector never wakes for a rolled-back append.
    PERFORM pg_notify(p_channel, v_last::TEXT);
  END IF;

  v_result := jsonb_build_object('streamId', p_stream_id, 'version', v_actual + v_count,
                                 'position', v_last::TEXT);
  IF p_command_id IS NOT NULL THEN
    UPDATE public.processed_commands SET result = v_result WHERE command_id = p_command_id;
  END IF;
  RETURN QUERY SELECT CASE WHEN v_count > 0 THEN 'appended' ELSE 'unchanged' END,
                      v_actual + v_count, v_last::TEXT, v_result, p_request_hash;
END;
$$;

-- Seals: at intervals the sealer (lib/integrity/sealer.ts, in the projector process) takes every
-- event that became visible in the gap-safe global order since the last seal, extends a running
-- digest over their (position, hash) pairs, and signs the result with Ed25519.
--   digest_0 = 32 zero bytes; digest_n = sha256(digest_{n-1} || position as 8 bytes big-endian || hash)
-- `seq` is contiguous (1, 2, 3 …, assigned under the sealer's lock, not from a sequence that can
-- skip), so a removed seal is seen; the digest is cumulative, so each seal vouches for everything
-- before it.
CREATE TABLE "event_seals" (
  "seq"           BIGINT         NOT NULL PRIMARY KEY CHECK ("seq" >= 1),
  -- Gap-safe "<transaction id>-<position>" of the last event covered (domain/event-store/cursor.ts).
  "head_cursor"   TEXT           NOT NULL,
  "head_position" BIGINT         NOT NULL,
  -- Events covered from the beginning up to and including the head.
  "event_count"   BIGINT         NOT NULL,
  "digest"        BYTEA          NOT NULL CHECK (octet_length("digest") = 32),
  -- Base64 of the signer's Ed25519 public key (SubjectPublicKeyInfo DER).
  "public_key"    TEXT           NOT NULL,
  -- Ed25519 over lib/integrity/chain.ts `sealMessage` (every column above plus sealed_at).
  "signature"     BYTEA          NOT NULL,
  "sealed_at"     TIMESTAMPTZ(3) NOT NULL
);

-- What each seal covered, one row per event in sealed order: lets `npm run verify` name the exact
-- position that was changed, deleted, inserted or reordered (the signed digest alone could only
-- say "somewhere before seal n"). The signed digest vouches for these rows in turn.
CREATE TABLE "event_seal_entries" (
  "ordinal"  BIGINT NOT NULL PRIMARY KEY CHECK ("ordinal" >= 1),
  "position" BIGINT NOT NULL,
  "hash"     BYTEA  NOT NULL,
  "seal_seq" BIGINT NOT NULL REFERENCES "event_seals" ("seq")
);
CREATE UNIQUE INDEX "event_seal_entries_position_key" ON "event_seal_entries" ("position");

-- Results of `npm run verify` and of "Verify now" on /admin, newest shown there.
CREATE TABLE "integrity_verifications" (
  "id"          BIGINT         GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "source"      TEXT           NOT NULL CHECK ("source" IN ('cli', 'admin')),
  -- The admin's user id for "Verify now"; NULL from the command line.
  "started_by"  TEXT,
  "started_at"  TIMESTAMPTZ(6) NOT NULL,
  "finished_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "result"      TEXT           NOT NULL CHECK ("result" IN ('intact', 'broken', 'failed')),
  -- Counts: events, streams, seals, sealed and unsealed events.
  "summary"     JSONB          NOT NULL,
  -- The problems found, first broken position first (at most a few dozen), or the error.
  "problems"    JSONB          NOT NULL DEFAULT '[]'
);
CREATE INDEX "integrity_verifications_finished_at_idx" ON "integrity_verifications" ("finished_at" DESC);

-- Seals and their entries are append-only like `events`; so is the record of verifications.
CREATE FUNCTION "ledger_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER "event_seals_no_change" BEFORE UPDATE OR DELETE ON "event_seals"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_change"();
CREATE TRIGGER "event_seals_no_truncate" BEFORE TRUNCATE ON "event_seals"
  FOR EACH STATEMENT EXECUTE FUNCTION "ledger_refuse_change"();
CREATE TRIGGER "event_seal_entries_no_change" BEFORE UPDATE OR DELETE ON "event_seal_entries"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_change"();
CREATE TRIGGER "event_seal_entries_no_truncate" BEFORE TRUNCATE ON "event_seal_entries"
  FOR EACH STATEMENT EXECUTE FUNCTION "ledger_refuse_change"();
CREATE TRIGGER "integrity_verifications_no_change" BEFORE UPDATE OR DELETE ON "integrity_verifications"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_change"();
CREATE TRIGGER "integrity_verifications_no_truncate" BEFORE TRUNCATE ON "integrity_verifications"
  FOR EACH STATEMENT EXECUTE FUNCTION "ledger_refuse_change"();

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;
GRANT EXECUTE ON FUNCTION "append_events"(TEXT, INTEGER, JSONB, TEXT, TEXT, TEXT) TO address_ledger_runtime;
GRANT EXECUTE ON FUNCTION "event_hash"(BYTEA, UUID, TEXT, INTEGER, TEXT, INTEGER, JSONB, JSONB, TIMESTAMPTZ)
  TO address_ledger_runtime;
GRANT SELECT, INSERT ON "event_seals", "event_seal_entries", "integrity_verifications" TO address_ledger_runtime;
GRANT USAGE ON SEQUENCE "integrity_verifications_id_seq" TO address_ledger_runtime;
