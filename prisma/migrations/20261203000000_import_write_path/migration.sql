-- The normalisation functions in PL/pgSQL, same results (issue 12: the import's speed).
--
-- ledger_fold and address_key were SQL functions PostgreSQL cannot inline: ledger_fold calls the
-- STABLE unaccent, address_key the STABLE concat_ws, while both are declared IMMUTABLE (as index
-- expressions require). A SQL function that is not inlined runs its body through the SQL-function
-- executor, which plans ledger_fold's body again for every call made from inside address_key: the
-- duplicate guard spent ≈ 100 µs per registered address on address_key, 60% of an import's time
-- in the database. PL/pgSQL keeps each body's plan for the session: ≈ 20 µs for address_key, and
-- ledger_fold costs a third of what it did in a query over many rows (search, the projector).
--
-- CREATE OR REPLACE keeps each function's identity, so the indexes and generated columns built on
-- ledger_fold stay valid: the results are the same (domain/event-store/address-keys.int.spec.ts
-- and the search tests check them).
CREATE OR REPLACE FUNCTION "ledger_fold"(text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ BEGIN RETURN lower(public.unaccent('public.unaccent'::regdictionary, $1)); END $$;

CREATE OR REPLACE FUNCTION "address_key"(line1 text, line2 text, postal_code text, country text, owner text)
  RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
  AS $$
BEGIN
  RETURN encode(sha256(convert_to(concat_ws(E'\x1f',
           address_key_part(line1), address_key_part(line2),
           regexp_replace(address_key_part(postal_code), '[\s-]', '', 'g'),
           address_key_part(country), address_key_part(owner)), 'UTF8')), 'hex');
END
$$;

-- The duplicate guard once per statement instead of once per row. The row trigger ran
-- address_keys_apply for every event, each in an exception block: a subtransaction per row, so a
-- batch of 1,000 registrations opened 1,000 subtransactions (past 64 in one transaction, every
-- other session's snapshot check has to look them up in pg_subtrans). A statement that only
-- registers addresses, each stream once, which is what append_events' single INSERT and the
-- import's batch are, now reserves all its keys in one INSERT (one subtransaction); any other statement applies its
-- events one by one in position order, exactly as before.
CREATE FUNCTION "events_reserve_address_keys"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  e       record;
  v_keys  address_keys[];
  v_taken text;
BEGIN
  IF EXISTS (SELECT FROM new_events n
              WHERE n.type IN ('AddressChanged', 'AddressCorrected', 'AddressArchived', 'AddressRestored'))
     OR EXISTS (SELECT FROM new_events n WHERE n.type = 'AddressRegistered'
                 GROUP BY n.stream_id HAVING count(*) > 1) THEN
    FOR e IN SELECT n.stream_id, n.type, n.schema_version, n.data FROM new_events n
              WHERE n.type IN ('AddressRegistered', 'AddressChanged', 'AddressCorrected', 'AddressArchived', 'AddressRestored')
              ORDER BY n.position
    LOOP
      PERFORM address_keys_apply(e.stream_id, e.type, e.schema_version, e.data);
    END LOOP;
    RETURN NULL;
  END IF;

  -- The registrations' reservations in position order, read as address_keys_apply reads them (a
  -- shape newer than version 2 gets none there either: whoever adds one adds it to both).
  SELECT array_agg(ROW(r.stream_id, r.d->>'line1', r.d->>'line2', r.d->>'postalCode', r.d->>'country',
                       r.d->>'owner', true,
                       address_key(r.d->>'line1', r.d->>'line2', r.d->>'postalCode', r.d->>'country', r.d->>'owner')
                      )::address_keys ORDER BY r.position)
    INTO v_keys
    FROM (SELECT n.stream_id, n.position,
                 CASE WHEN n.schema_version = 1
                      THEN jsonb_build_object('line1', n.data->'street', 'line2', n.data->'street2',
                                              'postalCode', n.data->'zip', 'country', n.data->'countryCode',
                                              'owner', n.data->'owner')
                      ELSE n.data END AS d
            FROM new_events n WHERE n.type = 'AddressRegistered' AND n.schema_version <= 2) r;
  IF v_keys IS NULL THEN RETURN NULL; END IF;

  FOR attempt IN 1 .. 3 LOOP
    BEGIN
      INSERT INTO address_keys SELECT * FROM unnest(v_keys);
      RETURN NULL;
    EXCEPTION WHEN unique_violation THEN
      -- The key an active address holds (the unique check waited for its writer to commit, so the
      -- row is visible here), else a key two registrations of this statement share: the later one
      -- is the duplicate of the earlier, as one row at a time would have found. Neither: a third
      -- writer archived or changed the holder since the check, so the key is free; try again.
      SELECT coalesce(
        (SELECT a.stream_id FROM unnest(v_keys) WITH ORDINALITY AS k
           JOIN address_keys a ON a.key = k.key AND a.active AND a.stream_id <> k.stream_id
          ORDER BY k.ordinality LIMIT 1),
        (SELECT k.stream_id FROM unnest(v_keys) WITH ORDINALITY AS k
          WHERE EXISTS (SELECT FROM unnest(v_keys) WITH ORDINALITY AS l
                         WHERE l.key = k.key AND l.ordinality > k.ordinality)
          ORDER BY k.ordinality LIMIT 1))
        INTO v_taken;
      EXIT WHEN v_taken IS NOT NULL;
    END;
  END LOOP;
  RAISE EXCEPTION 'duplicate_address %', coalesce(v_taken, '')
    USING ERRCODE = 'unique_violation', CONSTRAINT = 'address_keys_active_key',
          HINT = 'An active address has the same line 1, line 2, postal code, country and owner.';
END;
$$;

-- address_keys_apply as before, for the statements the trigger applies event by event, with the
-- same retry: a refusal always names the address holding the key. Without it, a holder archived
-- or changed by a third writer between the unique check and the look-up was a
-- 'duplicate_address ' naming nobody, which the event store could not map (a 500 for the caller).
CREATE OR REPLACE FUNCTION "address_keys_apply"(p_stream_id text, p_type text, p_schema_version integer, p_data jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  d       jsonb := p_data;
  f       jsonb;
  k       address_keys%ROWTYPE;
  v_taken text;
BEGIN
  IF p_type = 'AddressRegistered' THEN
    -- A shape newer than this function knows: no reservation rather than a wrong one. Whoever
    -- adds an AddressRegistered version (domain/address/upcasters.ts) adds it here too.
    IF p_schema_version > 2 THEN RETURN; END IF;
    IF p_schema_version = 1 THEN
      -- The first shape (see domain/address/upcasters.ts): street, street2, zip, countryCode.
      d := jsonb_build_object('line1', d->'street', 'line2', d->'street2', 'postalCode', d->'zip',
                              'country', d->'countryCode', 'owner', d->'owner');
    END IF;
    k.stream_id := p_stream_id;
    k.line1 := d->>'line1'; k.line2 := d->>'line2'; k.postal_code := d->>'postalCode';
    k.country := d->>'country'; k.owner := d->>'owner'; k.active := true;
  ELSE
    SELECT * INTO k FROM address_keys WHERE stream_id = p_stream_id;
    -- No row: an address that was already a duplicate when the guard was introduced (see the
    -- backfill below); it stays unguarded rather than blocking its own history.
    IF NOT FOUND THEN RETURN; END IF;
    CASE p_type
      WHEN 'AddressChanged', 'AddressCorrected' THEN
        f := CASE p_type WHEN 'AddressChanged' THEN d->'changes' ELSE d->'fields' END;
        IF NOT (f ?| ARRAY['line1', 'line2', 'postalCode', 'country', 'owner']) THEN RETURN; END IF;
        -- Only the fields the event names; a JSON null clears an optional field.
        IF f ? 'line1' THEN k.line1 := f->>'line1'; END IF;
        IF f ? 'line2' THEN k.line2 := f->>'line2'; END IF;
        IF f ? 'postalCode' THEN k.postal_code := f->>'postalCode'; END IF;
        IF f ? 'country' THEN k.country := f->>'country'; END IF;
        IF f ? 'owner' THEN k.owner := f->>'owner'; END IF;
      WHEN 'AddressArchived' THEN k.active := false;
      WHEN 'AddressRestored' THEN k.active := true;
      ELSE RETURN;
    END CASE;
  END IF;
  k.key := address_key(k.line1, k.line2, k.postal_code, k.country, k.owner);

  FOR attempt IN 1 .. 3 LOOP
    BEGIN
      IF p_type = 'AddressRegistered' THEN
        INSERT INTO address_keys SELECT k.*;
      ELSE
        UPDATE address_keys SET line1 = k.line1, line2 = k.line2, postal_code = k.postal_code, country = k.country,
                                owner = k.owner, active = k.active, key = k.key
        WHERE stream_id = p_stream_id;
      END IF;
      RETURN;
    EXCEPTION WHEN unique_violation THEN
      -- The unique check waited for the other writer to commit, so its row is visible here,
      -- unless a third writer archived or changed it since: then the key is free, try again.
      SELECT a.stream_id INTO v_taken FROM address_keys a
      WHERE a.key = k.key AND a.active AND a.stream_id <> p_stream_id;
      EXIT WHEN v_taken IS NOT NULL;
    END;
  END LOOP;
  RAISE EXCEPTION 'duplicate_address %', coalesce(v_taken, '')
    USING ERRCODE = 'unique_violation', CONSTRAINT = 'address_keys_active_key',
          HINT = 'An active address has the same line 1, line 2, postal code, country and owner.';
END;
$$;

DROP TRIGGER "events_reserve_address_key" ON "events";
DROP FUNCTION "events_reserve_address_key"();
CREATE TRIGGER "events_reserve_address_keys" AFTER INSERT ON "events"
  REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION "events_reserve_address_keys"();
-- A trigger runs whatever the caller may execute; nobody needs to call it directly.
REVOKE EXECUTE ON FUNCTION "events_reserve_address_keys"() FROM PUBLIC;

-- append_events_batch as before (same signature, outcomes and one statement), with each item's
-- first event hashed in the INSERT itself like append_events does, instead of by the row trigger,
-- whose extra lookup of the previous event cost ≈ 40 µs per imported row.
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

  -- The payload is the last position this transaction wrote (the index on (transaction_id, position)).
  SELECT max(e.position) INTO v_last FROM events e WHERE e.transaction_id = pg_current_xact_id_if_assigned();
  IF v_last IS NOT NULL THEN
    PERFORM public.notify_events(p_channel, v_last);
  END IF;
END;
$$;

-- append_events as before (same signature, outcomes, hash chain and NOTIFY), with a command's
-- events written by one INSERT instead of one per event.
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
  v_hashes BYTEA[] := ARRAY[]::BYTEA[];
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

  -- The hashes first (each depends on the one before it), then every event in one INSERT: the
  -- statement triggers on `events` (stream head, duplicate guard, audit city) run once per
  -- command instead of once per event, which made a 100-event append cost ten times a multi-row
  -- INSERT. recorded_at is written explicitly so the hash covers exactly the stored value.
  FOR i IN 0 .. v_count - 1 LOOP
    v_event := p_events -> i;
    v_id := (v_event->>'eventId')::UUID;
    v_ver := p_expected_version + i + 1;
    v_prev := public.event_hash(v_prev, v_id, p_stream_id, v_ver, v_event->>'type',
                                (v_event->>'schemaVersion')::INTEGER, v_event->'data', v_event->'metadata', now());
    v_hashes := v_hashes || v_prev;
  END LOOP;
  IF v_count > 0 THEN
    WITH ins AS (
      INSERT INTO public.events (stream_id, stream_version, event_id, type, schema_version, data, metadata,
                                 recorded_at, hash)
      SELECT p_stream_id, p_expected_version + e.ord::INTEGER, (e.value->>'eventId')::UUID, e.value->>'type',
             (e.value->>'schemaVersion')::INTEGER, e.value->'data', e.value->'metadata', now(), v_hashes[e.ord]
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS e(value, ord)
      ORDER BY e.ord
      RETURNING events.position
    )
    SELECT max(ins.position) INTO v_last FROM ins;
  END IF;
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
