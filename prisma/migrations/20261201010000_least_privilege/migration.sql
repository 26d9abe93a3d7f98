-- Least privilege (README "Security"): the role that owns the schema (it runs these migrations) is
-- not the role the app runs as. The runtime role gets exactly what the web server, the projector
-- and the CLIs use; on `events` that is SELECT, and appending only through append_events. Without
-- this, the app's own role owned `events` and could switch its immutability triggers off
-- (`ALTER TABLE … DISABLE TRIGGER`, or `session_replication_role = replica` as a superuser).
--
-- The runtime login role (address_ledger_app for the embedded PostgreSQL) is a member of this
-- NOLOGIN group; every migration grants to the group, so the login role can be renamed or
-- rotated without touching grants.
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;

-- Nobody but the owner creates objects in the schema: no CREATE FUNCTION / CREATE TABLE that could
-- shadow a name or be called by a SECURITY DEFINER function. (PostgreSQL 15+ already starts this
-- way; older servers and databases created from an old template do not.)
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM address_ledger_runtime;
GRANT USAGE ON SCHEMA public TO address_ledger_runtime;

-- The event store: read it; append through the function only.
REVOKE ALL ON "events", "processed_commands" FROM PUBLIC;
GRANT SELECT ON "events" TO address_ledger_runtime;
GRANT SELECT ON "processed_commands" TO address_ledger_runtime;

-- append_events runs with its owner's rights (the only way to insert into `events`), and with a
-- pinned search_path so a caller's objects cannot stand in for `events` or a built-in function
-- (pg_temp last: otherwise it is searched first). The body is unchanged (20261126030000).
ALTER FUNCTION "append_events"(TEXT, INTEGER, JSONB, TEXT, TEXT, TEXT)
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;
REVOKE ALL ON FUNCTION "append_events"(TEXT, INTEGER, JSONB, TEXT, TEXT, TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "append_events"(TEXT, INTEGER, JSONB, TEXT, TEXT, TEXT) TO address_ledger_runtime;

-- Read models: what the projector writes (version-guarded upserts; rebuild copies through the
-- functions below). Checkpoint rows are inserted on first use (ON CONFLICT DO NOTHING).
GRANT SELECT, INSERT, UPDATE, DELETE ON "address_view", "address_search" TO address_ledger_runtime;
GRANT SELECT, INSERT, UPDATE ON "projection_checkpoints" TO address_ledger_runtime;

-- Accounts: users are disabled, never deleted; sessions end by deletion; tokens are revoked by
-- update; the session key is generated once (INSERT … ON CONFLICT DO NOTHING) and never changed;
-- the sign-in limiter (rate-limiter-flexible's Prisma store, which creates no tables) upserts and deletes.
GRANT SELECT, INSERT, UPDATE ON "users", "api_tokens" TO address_ledger_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON "sessions", "sign_in_limits" TO address_ledger_runtime;
GRANT SELECT, INSERT ON "app_secrets" TO address_ledger_runtime;

-- The migrator reads its bookkeeping to find that nothing is pending without any other right
-- (so a projector or CLI on the runtime role starts when the owner has migrated).
GRANT SELECT ON "_prisma_migrations" TO address_ledger_runtime;

-- Rebuilds (projections/rebuild.ts) write a private copy of a read model and swap it in by
-- renaming. Renaming and creating tables needs ownership (or CREATE on the schema), which the
-- runtime role must not have: these SECURITY DEFINER functions do exactly those steps, and only
-- for the tables registered here, so they cannot be turned against `events` or the accounts.
CREATE TABLE "read_model_tables" (
  "name"       TEXT           NOT NULL PRIMARY KEY,
  "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);
INSERT INTO "read_model_tables" ("name") VALUES ('address_view'), ('address_search');
GRANT SELECT ON "read_model_tables" TO address_ledger_runtime;

-- The name of a registered read model's rebuild copy; anything else is refused.
CREATE FUNCTION "read_model_check"(p_live TEXT) RETURNS TEXT
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM public.read_model_tables WHERE name = p_live) THEN
    RAISE EXCEPTION '% is not a registered read model', p_live USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN p_live || '_rebuild';
END;
$$;

-- A fresh, empty copy `<live>_rebuild` with the live table's columns, defaults, generated columns,
-- constraints and indexes; the runtime role may write it.
CREATE FUNCTION "read_model_copy_create"(p_live TEXT) RETURNS TEXT
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_next TEXT := public.read_model_check(p_live);
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS public.%I', v_next);
  EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING ALL)', v_next, p_live);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO address_ledger_runtime', v_next);
  RETURN v_next;
END;
$$;

CREATE FUNCTION "read_model_copy_drop"(p_live TEXT) RETURNS VOID
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS public.%I', public.read_model_check(p_live));
END;
$$;

-- Replaces `<live>` by `<live>_rebuild` in the caller's transaction (the caller moves the
-- checkpoint in the same commit). The copy's indexes take the live names, so the schema after a
-- rebuild is exactly the migrated one (Prisma's view of it and later migrations keep working).
-- The caller sets lock_timeout: a long reader must not stall the swap and everyone behind it.
CREATE FUNCTION "read_model_copy_swap"(p_live TEXT) RETURNS VOID
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_next    TEXT := public.read_model_check(p_live);
  v_retired TEXT := p_live || '_retired';
  v_from    TEXT[] := '{}';
  v_to      TEXT[] := '{}';
  v_match   TEXT;
  r         RECORD;
BEGIN
  EXECUTE format('LOCK TABLE public.%I, public.%I IN ACCESS EXCLUSIVE MODE', p_live, v_next);
  -- Pair every live index with a copied one of the same definition (name and table left out).
  FOR r IN
    SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition,
           regexp_replace(pg_get_indexdef(i.oid), '^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ ', 'CREATE \1INDEX ON ') AS shape
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = format('public.%I', p_live)::regclass
     ORDER BY i.relname
  LOOP
    SELECT i.relname INTO v_match
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = format('public.%I', v_next)::regclass
       AND regexp_replace(pg_get_indexdef(i.oid), '^CREATE (UNIQUE )?INDEX \S+ ON (ONLY )?\S+ ', 'CREATE \1INDEX ON ') = r.shape
       AND NOT (i.relname = ANY (v_from))
     ORDER BY i.relname LIMIT 1;
    IF v_match IS NULL THEN
      RAISE EXCEPTION 'table swap: % has no index like % (%)', v_next, r.name, r.definition;
    END IF;
    v_from := v_from || v_match;
    v_to := v_to || r.name::TEXT;
  END LOOP;
  -- Free the live names first (an index name is unique in the schema), then hand them over.
  FOR k IN 1 .. coalesce(array_length(v_to, 1), 0) LOOP
    EXECUTE format('ALTER INDEX public.%I RENAME TO %I', v_to[k], v_retired || '_i' || k);
  END LOOP;
  FOR k IN 1 .. coalesce(array_length(v_from, 1), 0) LOOP
    EXECUTE format('ALTER INDEX public.%I RENAME TO %I', v_from[k], v_to[k]);
  END LOOP;
  EXECUTE format('DROP TABLE IF EXISTS public.%I', v_retired);
  EXECUTE format('ALTER TABLE public.%I RENAME TO %I', p_live, v_retired);
  EXECUTE format('ALTER TABLE public.%I RENAME TO %I', v_next, p_live);
  EXECUTE format('DROP TABLE public.%I', v_retired);
END;
$$;

REVOKE ALL ON FUNCTION "read_model_check"(TEXT), "read_model_copy_create"(TEXT), "read_model_copy_drop"(TEXT),
  "read_model_copy_swap"(TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "read_model_copy_create"(TEXT), "read_model_copy_drop"(TEXT), "read_model_copy_swap"(TEXT)
  TO address_ledger_runtime;
