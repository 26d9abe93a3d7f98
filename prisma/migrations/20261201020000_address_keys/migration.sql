-- The duplicate guard (issue 10): at most one active address per normalised key (line 1, line 2,
-- postal code, country, owner). The reservation is written by a trigger on `events`, so it runs
-- inside the INSERT of append_events: two concurrent registrations of the same address cannot both
-- commit (the second waits on the unique index for the first, then fails and appends nothing).

-- One text field as it takes part in the key: Unicode NFC, accents and case folded (ledger_fold,
-- from the read-side migration), every run of white space made one space, trimmed. NULL and ''
-- are the same (an unset optional field).
CREATE FUNCTION "address_key_part"(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT btrim(regexp_replace(ledger_fold(normalize(coalesce($1, ''), NFC)), '\s+', ' ', 'g')) $$;

-- The normalised key of an address. The postal code also loses its spaces and hyphens
-- ("AB1 2CD" = "ab12cd"). Hashed so a long address never exceeds the index's row size limit;
-- U+001F separates the parts (control characters are refused at the boundary, so no part holds one).
-- THE one definition: the trigger below and the application's lookups both call it.
CREATE FUNCTION "address_key"(line1 text, line2 text, postal_code text, country text, owner text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT encode(sha256(convert_to(concat_ws(E'\x1f',
           address_key_part(line1), address_key_part(line2),
           regexp_replace(address_key_part(postal_code), '[\s-]', '', 'g'),
           address_key_part(country), address_key_part(owner)), 'UTF8')), 'hex') $$;

-- One row per address stream: the current values of the key's parts (a change or correction
-- names only the fields it alters, so the row keeps the rest) and whether the address is active.
-- Derived from the events, so it is kept by the trigger only, never by the application.
CREATE TABLE "address_keys" (
  "stream_id"   TEXT    NOT NULL PRIMARY KEY,
  "line1"       TEXT    NOT NULL,
  "line2"       TEXT,
  "postal_code" TEXT    NOT NULL,
  "country"     TEXT    NOT NULL,
  "owner"       TEXT,
  "active"      BOOLEAN NOT NULL,
  "key"         TEXT    NOT NULL
);
-- Archived addresses keep their row (a restore must take the key again) but hold no key.
CREATE UNIQUE INDEX "address_keys_active_key" ON "address_keys" ("key") WHERE "active";

-- Applies one address event to its stream's reservation. Refuses, with SQLSTATE 23505 and the
-- message 'duplicate_address <stream id of the active address holding the key>', an event that
-- would give this address the key of another active address. The event store reads that message
-- (domain/event-store/postgres-event-store.ts).
CREATE FUNCTION "address_keys_apply"(p_stream_id text, p_type text, p_schema_version integer, p_data jsonb)
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

  BEGIN
    IF p_type = 'AddressRegistered' THEN
      INSERT INTO address_keys SELECT k.*;
    ELSE
      UPDATE address_keys SET line1 = k.line1, line2 = k.line2, postal_code = k.postal_code, country = k.country,
                              owner = k.owner, active = k.active, key = k.key
      WHERE stream_id = p_stream_id;
    END IF;
  EXCEPTION WHEN unique_violation THEN
    -- The unique check waited for the other writer to commit, so its row is visible to this statement.
    SELECT a.stream_id INTO v_taken FROM address_keys a
    WHERE a.key = k.key AND a.active AND a.stream_id <> p_stream_id;
    RAISE EXCEPTION 'duplicate_address %', coalesce(v_taken, '')
      USING ERRCODE = 'unique_violation', CONSTRAINT = 'address_keys_active_key',
            HINT = 'An active address has the same line 1, line 2, postal code, country and owner.';
  END;
END;
$$;

-- SECURITY DEFINER: the runtime role may read reservations but never write them itself; the
-- trigger writes them on its behalf, only as a consequence of an appended event.
CREATE FUNCTION "events_reserve_address_key"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM address_keys_apply(NEW.stream_id, NEW.type, NEW.schema_version, NEW.data);
  RETURN NULL;
END;
$$;

CREATE TRIGGER "events_reserve_address_key" AFTER INSERT ON "events"
  FOR EACH ROW
  WHEN (NEW.type IN ('AddressRegistered', 'AddressChanged', 'AddressCorrected', 'AddressArchived', 'AddressRestored'))
  EXECUTE FUNCTION "events_reserve_address_key"();

-- Backfill from the events already stored, replayed in global order. An address that was already
-- the duplicate of an earlier active one keeps no reservation (the earlier one keeps the key), so
-- the migration never fails on old data; such an address stays unguarded (README, "Duplicates").
DO $$
DECLARE
  e record;
  v_skipped text[] := ARRAY[]::text[];
BEGIN
  FOR e IN SELECT stream_id, type, schema_version, data FROM events
           WHERE type IN ('AddressRegistered', 'AddressChanged', 'AddressCorrected', 'AddressArchived', 'AddressRestored')
           ORDER BY position
  LOOP
    IF e.stream_id = ANY(v_skipped) THEN CONTINUE; END IF;
    BEGIN
      PERFORM address_keys_apply(e.stream_id, e.type, e.schema_version, e.data);
    EXCEPTION WHEN unique_violation THEN
      DELETE FROM address_keys WHERE stream_id = e.stream_id;
      v_skipped := v_skipped || e.stream_id;
    END;
  END LOOP;
  IF cardinality(v_skipped) > 0 THEN
    RAISE NOTICE 'address_keys: % addresses were already duplicates and hold no reservation', cardinality(v_skipped);
  END IF;
END $$;

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;
GRANT SELECT ON "address_keys" TO address_ledger_runtime;
-- Only the trigger applies events to reservations (it runs as the owner).
REVOKE EXECUTE ON FUNCTION "address_keys_apply"(text, text, integer, jsonb) FROM PUBLIC;
-- A trigger runs whatever the caller may execute; nobody needs to call it directly.
REVOKE EXECUTE ON FUNCTION "events_reserve_address_key"() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "address_key_part"(text) TO address_ledger_runtime;
GRANT EXECUTE ON FUNCTION "address_key"(text, text, text, text, text) TO address_ledger_runtime;
