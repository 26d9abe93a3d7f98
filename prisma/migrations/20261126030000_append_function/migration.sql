-- Appending a command's events in one statement (one round trip instead of seven): lock the
-- stream, check the expected version, record the command for idempotency, insert the events,
-- store the command's result and NOTIFY. A single statement is atomic on its own.
--
-- Outcomes (never an exception for the expected cases, so nothing half-done can commit):
--   'appended' / 'unchanged'   the events (or none) were appended; the command is recorded
--   'conflict'                 the stream is not at p_expected_version; nothing was written
--   'already_processed'        p_command_id was committed before; its stored result is returned
CREATE FUNCTION "append_events"(
  p_stream_id        TEXT,
  p_expected_version INTEGER,
  p_events           JSONB,   -- [{eventId, type, schemaVersion, data, metadata}, ...]
  p_command_id       TEXT,    -- NULL: no idempotency record
  p_request_hash     TEXT,
  p_channel          TEXT
) RETURNS TABLE (outcome TEXT, version INTEGER, "position" TEXT, stored_result JSONB, stored_hash TEXT)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_actual INTEGER;
  v_count  INTEGER := jsonb_array_length(p_events);
  v_last   BIGINT;
  v_result JSONB;
  v_hash   TEXT;
BEGIN
  -- Serialise appends to one stream; appends to other streams proceed in parallel.
  PERFORM pg_advisory_xact_lock(hashtextextended(p_stream_id, 0));

  -- Each statement of a volatile function sees what committed before it started, so this sees
  -- the work of a writer we just waited for on the lock.
  SELECT coalesce(max(e.stream_version), 0) INTO v_actual FROM events e WHERE e.stream_id = p_stream_id;
  IF v_actual <> p_expected_version THEN
    RETURN QUERY SELECT 'conflict'::TEXT, v_actual, NULL::TEXT, NULL::JSONB, NULL::TEXT;
    RETURN;
  END IF;

  IF p_command_id IS NOT NULL THEN
    -- Waits for a concurrent transaction holding the same command id, then does nothing if it committed.
    INSERT INTO processed_commands (command_id, request_hash, stream_id, result)
    VALUES (p_command_id, p_request_hash, p_stream_id, '{}'::JSONB)
    ON CONFLICT (command_id) DO NOTHING;
    IF NOT FOUND THEN
      SELECT pc.result, pc.request_hash INTO v_result, v_hash
      FROM processed_commands pc WHERE pc.command_id = p_command_id;
      RETURN QUERY SELECT 'already_processed'::TEXT, NULL::INTEGER, NULL::TEXT, v_result, v_hash;
      RETURN;
    END IF;
  END IF;

  IF v_count > 0 THEN
    WITH inserted AS (
      INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
      SELECT p_stream_id, p_expected_version + e.ord::INTEGER, (e.value->>'eventId')::UUID, e.value->>'type',
             (e.value->>'schemaVersion')::INTEGER, e.value->'data', e.value->'metadata'
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord)
      ORDER BY e.ord
      RETURNING events.position
    )
    SELECT max(inserted.position) INTO v_last FROM inserted;
    -- Delivered on commit only, so the projector never wakes for a rolled-back append.
    PERFORM pg_notify(p_channel, v_last::TEXT);
  END IF;

  v_result := jsonb_build_object('streamId', p_stream_id, 'version', v_actual + v_count,
                                 'position', v_last::TEXT);
  IF p_command_id IS NOT NULL THEN
    UPDATE processed_commands SET result = v_result WHERE command_id = p_command_id;
  END IF;
  RETURN QUERY SELECT CASE WHEN v_count > 0 THEN 'appended' ELSE 'unchanged' END,
                      v_actual + v_count, v_last::TEXT, v_result, p_request_hash;
END;
$$;
