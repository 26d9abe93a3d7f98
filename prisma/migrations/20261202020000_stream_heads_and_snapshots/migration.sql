-- The write path on long histories and under concurrent writers (issue 14):
--   1. stream_heads: each stream's head version and hash in one row, so the append's version
--      check reads one indexed row. The cached plan of `max(stream_version)` / `ORDER BY … DESC
--      LIMIT 1` sometimes read the whole stream (1.2 ms on a 9,900-event stream instead of 0.05).
--   2. The NOTIFY is throttled: PostgreSQL holds a cluster-wide lock from a notifying
--      transaction's commit until it ends, which serialised concurrent appenders. Now at most one
--      transaction in flight notifies; the others skip. The listeners poll adaptively after a
--      wake-up (projections/runner.ts idle(), app/api/events/stream), so a skipped transaction,
--      which commits just after the notifying one, is read by the follow-up look.
--   3. stream_snapshots: a decider's state at a version, beside the stream (lib/ledger.ts).

-- 1. Stream heads ------------------------------------------------------------------------------
CREATE TABLE "stream_heads" (
  "stream_id" TEXT    NOT NULL PRIMARY KEY,
  "version"   INTEGER NOT NULL CHECK ("version" >= 1),
  -- The head event's hash (the next event chains to it: migration 20261201040000_tamper_evidence).
  "hash"      BYTEA   NOT NULL CHECK (octet_length("hash") = 32)
);

INSERT INTO "stream_heads" ("stream_id", "version", "hash")
SELECT DISTINCT ON (e.stream_id) e.stream_id, e.stream_version, e.hash
FROM "events" e ORDER BY e.stream_id, e.stream_version DESC;

-- Kept by a statement trigger on `events` rather than by the append functions alone, so every
-- insert moves the head, also one made around the functions (a script, a test as the owner):
-- a head that lagged behind would let an append with a stale expected version through to the
-- unique index, or refuse a correct one. One upsert per statement (not per row), from the
-- statement's own rows; a head never moves back.
CREATE FUNCTION "stream_heads_follow"() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO public.stream_heads AS h (stream_id, version, hash)
  SELECT DISTINCT ON (n.stream_id) n.stream_id, n.stream_version, n.hash
  FROM new_events n ORDER BY n.stream_id, n.stream_version DESC
  ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, hash = excluded.hash
    WHERE excluded.version > h.version;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "events_stream_heads" AFTER INSERT ON "events"
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION "stream_heads_follow"();

-- 2. append_events: same signature, outcomes, hash chain and one statement as before; the head
-- comes from stream_heads, and the NOTIFY only from the one transaction holding the notify lock.
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

  -- Under the lock, this statement sees the head a writer we waited for committed. One row by
  -- its primary key, whatever the stream's length.
  SELECT h.version, h.hash INTO v_actual, v_prev FROM public.stream_heads h WHERE h.stream_id = p_stream_id;
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
    PERFORM public.notify_events(p_channel, v_last);
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

-- The wake-up of the event listeners, sent on commit only (never for a rolled-back append), by at
-- most one transaction in flight: the one that holds the transaction-level "notify" advisory lock
-- (a two-key lock, a space apart from the one-key stream locks). A transaction that cannot take
-- it skips its NOTIFY: another one that is still open will send one, and listeners look again
-- shortly after every wake-up for whatever committed just after it. Without the throttle, eight
-- writers queued on PostgreSQL's notify lock at commit (≈ 1,100 commands/s against ≈ 2,800/s).
CREATE FUNCTION "notify_events"(p_channel TEXT, p_position BIGINT) RETURNS VOID
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF pg_try_advisory_xact_lock(1818584423, 1) THEN
    PERFORM pg_notify(p_channel, p_position::TEXT);
  END IF;
END;
$$;

-- append_events_batch: as before; the versions come from stream_heads, and its one NOTIFY is
-- throttled like append_events'.
CREATE OR REPLACE FUNCTION "append_events_batch"(p_items JSONB, p_channel TEXT)
RETURNS TABLE (ord INTEGER, outcome TEXT, version INTEGER, "position" TEXT, stored_result JSONB, stored_hash TEXT)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_last BIGINT;
BEGIN
  -- The same per-stream lock as append_events for streams that exist, taken in one order (by key)
  -- so two batches that share streams cannot deadlock.
  PERFORM pg_advisory_xact_lock(k.key)
  FROM (SELECT DISTINCT hashtextextended(i.value->>'streamId', 0) AS key
        FROM jsonb_array_elements(p_items) AS i(value)
        WHERE (i.value->>'expectedVersion')::INTEGER > 0 ORDER BY 1) AS k;

  -- One statement after the locks, so it sees what the writers we waited for committed.
  RETURN QUERY
  WITH items AS (
    SELECT i.ord::INTEGER AS ord, i.value->>'streamId' AS stream_id,
           (i.value->>'expectedVersion')::INTEGER AS expected, i.value->'events' AS events,
           i.value->>'commandId' AS command_id, i.value->>'requestHash' AS request_hash
    FROM jsonb_array_elements(p_items) WITH ORDINALITY AS i(value, ord)
  ),
  current AS (
    SELECT it.*,
           coalesce((SELECT h.version FROM stream_heads h WHERE h.stream_id = it.stream_id), 0) AS actual,
           (SELECT pc FROM processed_commands pc WHERE pc.command_id = it.command_id) AS done
    FROM items it
  ),
  writing AS (
    SELECT c.* FROM current c WHERE c.actual = c.expected AND c.done IS NULL
  ),
  inserted AS (
    INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
    SELECT w.stream_id, w.expected + e.ord::INTEGER, (e.value->>'eventId')::UUID, e.value->>'type',
           (e.value->>'schemaVersion')::INTEGER, e.value->'data', e.value->'metadata'
    FROM writing w, jsonb_array_elements(w.events) WITH ORDINALITY AS e(value, ord)
    ORDER BY w.ord, e.ord
    RETURNING events.stream_id, events.position
  ),
  per_stream AS (
    SELECT ins.stream_id, max(ins.position) AS last, count(*)::INTEGER AS n FROM inserted ins GROUP BY ins.stream_id
  ),
  results AS (
    SELECT w.ord, w.command_id, w.request_hash, w.stream_id,
           jsonb_build_object('streamId', w.stream_id, 'version', w.expected + coalesce(p.n, 0),
                              'position', p.last::TEXT) AS result
    FROM writing w LEFT JOIN per_stream p ON p.stream_id = w.stream_id
  ),
  recorded AS (
    -- No ON CONFLICT: the same command committed meanwhile by another transaction is an error
    -- (the batch is retried item by item), never a second set of events.
    INSERT INTO processed_commands (command_id, request_hash, stream_id, result)
    SELECT r.command_id, r.request_hash, r.stream_id, r.result FROM results r WHERE r.command_id IS NOT NULL
  )
  -- A conflicting item whose command committed earlier (a re-run) answers with that command's
  -- result, as append_events' callers do (domain/event-store/postgres-event-store.ts).
  SELECT c.ord,
         CASE WHEN c.done IS NOT NULL THEN 'already_processed'
              WHEN r.ord IS NULL THEN 'conflict'
              WHEN (r.result->>'position') IS NOT NULL THEN 'appended' ELSE 'unchanged' END,
         CASE WHEN r.ord IS NULL THEN c.actual ELSE (r.result->>'version')::INTEGER END,
         r.result->>'position',
         coalesce((c.done).result, r.result),
         coalesce((c.done).request_hash, c.request_hash)
  FROM current c LEFT JOIN results r ON r.ord = c.ord
  ORDER BY c.ord;

  -- The payload is the last position this transaction wrote (the index on (transaction_id, position)).
  SELECT max(e.position) INTO v_last FROM events e WHERE e.transaction_id = pg_current_xact_id_if_assigned();
  IF v_last IS NOT NULL THEN
    PERFORM public.notify_events(p_channel, v_last);
  END IF;
END;
$$;

-- 3. Snapshots ---------------------------------------------------------------------------------
-- A cache of folded state, never a source of truth: losing a row costs one replay. One row per
-- stream, decider (`kind`) and state layout (`shape`): code with a new layout never reads an old
-- row and writes its own, so a rolling deploy cannot mix layouts.
CREATE TABLE "stream_snapshots" (
  "stream_id" TEXT           NOT NULL,
  "kind"      TEXT           NOT NULL,
  "shape"     INTEGER        NOT NULL CHECK ("shape" >= 1),
  "version"   INTEGER        NOT NULL CHECK ("version" >= 1),
  "state"     JSONB          NOT NULL,
  "taken_at"  TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  PRIMARY KEY ("stream_id", "kind", "shape")
);

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;
-- Heads are written only by the trigger (as the inserting owner); the app reads them.
GRANT SELECT ON "stream_heads" TO address_ledger_runtime;
-- Snapshots are the app's cache: it writes and replaces them (an upsert needs UPDATE).
GRANT SELECT, INSERT, UPDATE ON "stream_snapshots" TO address_ledger_runtime;
REVOKE ALL ON FUNCTION "notify_events"(TEXT, BIGINT) FROM PUBLIC;
REVOKE ALL ON FUNCTION "stream_heads_follow"() FROM PUBLIC;
