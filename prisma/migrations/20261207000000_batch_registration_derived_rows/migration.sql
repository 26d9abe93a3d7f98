-- A batch of registrations writes its derived rows itself, as one registration does since
-- migration 20261205010000 (the import's speed).
--
-- An import's batch is 1,000 registrations of new streams, one event each. events_derive spent
-- about a third of such a batch's database time: its call, a pass over the transition table to
-- classify the statement, the stream heads' upsert (sorted for DISTINCT ON, each row checked for
-- a conflict first), and the duplicate guard's reservations, checked against both unique indexes
-- of address_keys. append_events_batch now writes these rows in the events'
-- own statement when every item is such a registration (the current shape, version 2, with its
-- city), and tells the trigger not to derive them again (ledger.derived, the trigger's WHEN).
-- They are the rows events_derive writes for that statement: each stream's head at version 1
-- with the event's hash; the event's own city; the key as registered, refused if an active
-- address holds it (or an earlier registration of the same batch: the later is the duplicate of
-- the earlier). Any other batch (an existing stream, several events, an older shape) is derived
-- by the trigger as before.
--
-- The reservation's conflict target is the key alone: a new stream has no reservation (its
-- stream_id, address_keys' primary key, is free: a second registration of it fails on the events'
-- own unique index first), so checking the primary key as well was wasted work.
--
-- Tests: domain/event-store/derived-rows.int.spec.ts ("a batch of registrations") and
-- address-keys.int.spec.ts (the guard across and within batches).
CREATE OR REPLACE FUNCTION "append_events_batch"(p_items JSONB, p_channel TEXT)
RETURNS TABLE (ord INTEGER, outcome TEXT, version INTEGER, "position" TEXT, stored_result JSONB, stored_hash TEXT)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_last     BIGINT;
  v_register BOOLEAN;
  v_ord      INTEGER[];
  v_outcome  TEXT[];
  v_version  INTEGER[];
  v_position TEXT[];
  v_result   JSONB[];
  v_hash     TEXT[];
  v_missing  address_keys[];
  v_all      address_keys[];
  v_taken    TEXT;
  v_nestloop TEXT;
BEGIN
  -- Every row of this function is derived by the trigger unless the registrations' path below
  -- writes them, whatever the caller set (see append_events).
  PERFORM set_config('ledger.derived', '', true);

  -- The same per-stream lock as append_events for streams that exist, taken in one order (by key)
  -- so two batches that share streams cannot deadlock.
  PERFORM pg_advisory_xact_lock(k.key)
  FROM (SELECT DISTINCT hashtextextended(i.value->>'streamId', 0) AS key
        FROM jsonb_array_elements(p_items) AS i(value)
        WHERE (i.value->>'expectedVersion')::INTEGER > 0 ORDER BY 1) AS k;

  -- IS TRUE: an item missing one of these is not a registration (bool_and would skip its NULL).
  SELECT coalesce(bool_and(((i.value->>'expectedVersion')::INTEGER = 0
                            AND jsonb_array_length(i.value->'events') = 1
                            AND i.value #>> '{events,0,type}' = 'AddressRegistered'
                            AND (i.value #>> '{events,0,schemaVersion}')::INTEGER = 2
                            AND i.value #>> '{events,0,data,city}' IS NOT NULL) IS TRUE), false)
    INTO v_register
    FROM jsonb_array_elements(p_items) AS i(value);

  IF NOT v_register THEN
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
             coalesce(h.version, 0) AS actual, h.hash AS head_hash,
             (SELECT pc FROM processed_commands pc WHERE pc.command_id = it.command_id) AS done
      FROM items it LEFT JOIN stream_heads h ON h.stream_id = it.stream_id
    ),
    writing AS (
      SELECT c.* FROM current c WHERE c.actual = c.expected AND c.done IS NULL
    ),
    inserted AS (
      -- An item's first event chains to the head read above and gets its hash here; a later event
      -- of the same item (rare: one command, several events) is left to the events_chain_hash
      -- trigger, which reads the row this statement inserted just before it.
      INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata,
                          recorded_at, hash)
      SELECT w.stream_id, w.expected + e.ord::INTEGER, (e.value->>'eventId')::UUID, e.value->>'type',
             (e.value->>'schemaVersion')::INTEGER, e.value->'data', e.value->'metadata', now(),
             CASE WHEN e.ord = 1 THEN
               event_hash(w.head_hash, (e.value->>'eventId')::UUID, w.stream_id, w.expected + 1, e.value->>'type',
                          (e.value->>'schemaVersion')::INTEGER, e.value->'data', e.value->'metadata', now())
             END
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
  ELSE
    -- Registrations only: the same statement, writing each one's derived rows with it. Its
    -- answers are kept in arrays, because the reservations a held key skipped must be known
    -- before they are returned (the statement is refused then).
    PERFORM set_config('ledger.derived', 'on', true);
    -- Hash joins for this statement: the planner takes a set-returning function for 100 rows and
    -- the rows left to write for 1, so it joined the written items with the inserted rows by
    -- nested loops, 1,000 × 1,000 comparisons (0.7 s a batch). `current` reads the head and the
    -- command record in sub-selects, index look-ups this setting leaves alone.
    v_nestloop := current_setting('enable_nestloop');
    PERFORM set_config('enable_nestloop', 'off', true);
    WITH items AS (
      SELECT i.ord::INTEGER AS ord, i.value->>'streamId' AS stream_id,
             i.value #> '{events,0}' AS event,
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
      SELECT c.* FROM current c WHERE c.actual = 0 AND c.done IS NULL
    ),
    inserted AS (
      -- A new stream: its first event chains to no previous one.
      INSERT INTO events AS ev (stream_id, stream_version, event_id, type, schema_version, data, metadata,
                                recorded_at, hash)
      SELECT w.stream_id, 1, (w.event->>'eventId')::UUID, 'AddressRegistered', 2, w.event->'data',
             w.event->'metadata', now(),
             event_hash(NULL, (w.event->>'eventId')::UUID, w.stream_id, 1, 'AddressRegistered', 2,
                        w.event->'data', w.event->'metadata', now())
      FROM writing w
      ORDER BY w.ord
      RETURNING ev.stream_id, ev.position, ev.hash, lower(ev.data->>'city') AS city,
                ROW(ev.stream_id, ev.data->>'line1', ev.data->>'line2', ev.data->>'postalCode',
                    ev.data->>'country', ev.data->>'owner', true,
                    address_key(ev.data->>'line1', ev.data->>'line2', ev.data->>'postalCode',
                                ev.data->>'country', ev.data->>'owner'))::address_keys AS reservation
    ),
    heads AS (
      INSERT INTO stream_heads (stream_id, version, hash) SELECT ins.stream_id, 1, ins.hash FROM inserted ins
    ),
    cities AS (
      INSERT INTO audit_event_cities ("position", stream_id, stream_version, city)
      SELECT ins.position, ins.stream_id, 1, ins.city FROM inserted ins
    ),
    reserved AS (
      -- In position order, so of two registrations with one key the later is the one skipped.
      INSERT INTO address_keys
      SELECT (ins.reservation).* FROM inserted ins ORDER BY ins.position
      ON CONFLICT (key) WHERE active DO NOTHING
      RETURNING address_keys.stream_id
    ),
    results AS (
      SELECT w.ord, w.command_id, w.request_hash, w.stream_id,
             jsonb_build_object('streamId', w.stream_id, 'version', 1, 'position', ins.position::TEXT) AS result
      FROM writing w JOIN inserted ins ON ins.stream_id = w.stream_id
    ),
    recorded AS (
      INSERT INTO processed_commands (command_id, request_hash, stream_id, result)
      SELECT r.command_id, r.request_hash, r.stream_id, r.result FROM results r WHERE r.command_id IS NOT NULL
    ),
    answers AS (
      SELECT c.ord,
             CASE WHEN c.done IS NOT NULL THEN 'already_processed'
                  WHEN r.ord IS NULL THEN 'conflict' ELSE 'appended' END AS outcome,
             CASE WHEN r.ord IS NULL THEN c.actual ELSE 1 END AS version,
             r.result->>'position' AS position,
             coalesce((c.done).result, r.result) AS result,
             coalesce((c.done).request_hash, c.request_hash) AS hash
      FROM current c LEFT JOIN results r ON r.ord = c.ord
    )
    SELECT array_agg(a.ord ORDER BY a.ord), array_agg(a.outcome ORDER BY a.ord), array_agg(a.version ORDER BY a.ord),
           array_agg(a.position ORDER BY a.ord), array_agg(a.result ORDER BY a.ord), array_agg(a.hash ORDER BY a.ord),
           (SELECT array_agg(ins.reservation ORDER BY ins.position) FROM inserted ins
             WHERE ins.stream_id NOT IN (SELECT k.stream_id FROM reserved k)),
           (SELECT array_agg(ins.reservation ORDER BY ins.position) FROM inserted ins)
      INTO v_ord, v_outcome, v_version, v_position, v_result, v_hash, v_missing, v_all
      FROM answers a;
    PERFORM set_config('enable_nestloop', v_nestloop, true);
    PERFORM set_config('ledger.derived', '', true);

    -- A skipped reservation (ON CONFLICT DO NOTHING waited for a writer of the same key in
    -- flight): as events_derive does, three tries in all, naming the holder of the statement's
    -- keys it names (an active address outside the statement first, else the earlier of two of
    -- its own rows), or taking the key if its holder let it go meanwhile (the holder is NULL then).
    FOR attempt IN 1 .. 3 LOOP
      EXIT WHEN v_missing IS NULL;
      v_taken := duplicate_address_holder(v_all, ARRAY(SELECT m.stream_id FROM unnest(v_all) AS m));
      EXIT WHEN v_taken IS NOT NULL OR attempt = 3;
      WITH retried AS (
        INSERT INTO address_keys SELECT * FROM unnest(v_missing) ON CONFLICT (key) WHERE active DO NOTHING
        RETURNING address_keys.stream_id
      )
      SELECT array_agg(m) INTO v_missing FROM unnest(v_missing) AS m
       WHERE NOT EXISTS (SELECT FROM retried r WHERE r.stream_id = m.stream_id);
    END LOOP;
    IF v_missing IS NOT NULL THEN
      RAISE EXCEPTION 'duplicate_address %', coalesce(v_taken, '')
        USING ERRCODE = 'unique_violation', CONSTRAINT = 'address_keys_active_key',
              HINT = 'An active address has the same line 1, line 2, postal code, country and owner.';
    END IF;

    RETURN QUERY SELECT * FROM unnest(v_ord, v_outcome, v_version, v_position, v_result, v_hash);
  END IF;

  -- The payload is the last position this transaction wrote (the index on (transaction_id, position)).
  SELECT max(e.position) INTO v_last FROM events e WHERE e.transaction_id = pg_current_xact_id_if_assigned();
  IF v_last IS NOT NULL THEN
    PERFORM public.notify_events(p_channel, v_last);
  END IF;
END;
$$;
