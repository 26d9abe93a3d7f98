-- Appending many commands' events, to many streams, in one statement (bulk imports: one round
-- trip per few hundred rows instead of one per row). Each item keeps every guarantee of
-- `append_events`: its stream is locked, its expected version checked, its command id recorded
-- for idempotency with its result, all in the caller's one transaction; one NOTIFY per batch.
-- A separate function (not a change to `append_events`) so both stay simple; triggers on
-- `events` (hash chains, duplicate guards) see these rows like any other insert.
--
-- p_items: [{streamId, expectedVersion, events: [{eventId, type, schemaVersion, data, metadata}],
--            commandId, requestHash}, ...]  (a stream id or command id twice in one batch is a
--            unique violation: the second insert of its version or record)
-- One row per item, `ord` its 1-based place in p_items; outcomes as in `append_events`:
--   'appended' / 'unchanged'   written (or nothing to write); the command is recorded
--   'conflict'                 the stream is not at its expected version; nothing written for it
--   'already_processed'        the command id was committed before; its stored result is returned
-- An exception rolls back the whole batch; the caller then retries its items one by one, so the
-- culprit gets its own answer (domain/command-handler.ts). That covers a trigger refusing a row
-- (a duplicate guard) and a race: a command id or new stream another transaction commits while
-- this one runs is a unique violation here, where append_events would wait and answer politely.
--
-- Speed (131,650 rows in well under a minute): one statement does the work; the idempotency
-- records are written once, with their result, after the events (not claimed first and updated);
-- only streams that exist already are locked (a new stream is guarded by the unique index on
-- (stream_id, stream_version), which makes a concurrent creator wait and then fail).
CREATE FUNCTION "append_events_batch"(p_items JSONB, p_channel TEXT)
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
           coalesce((SELECT max(e.stream_version) FROM events e WHERE e.stream_id = it.stream_id), 0) AS actual,
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

  -- Delivered on commit only, so the projector never wakes for a rolled-back batch. The payload
  -- is the last position this transaction wrote (the index on (transaction_id, position)).
  SELECT max(e.position) INTO v_last FROM events e WHERE e.transaction_id = pg_current_xact_id_if_assigned();
  IF v_last IS NOT NULL THEN
    PERFORM pg_notify(p_channel, v_last::TEXT);
  END IF;
END;
$$;

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;
REVOKE ALL ON FUNCTION "append_events_batch"(JSONB, TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "append_events_batch"(JSONB, TEXT) TO address_ledger_runtime;
