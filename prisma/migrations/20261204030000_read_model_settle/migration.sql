-- Settling a read model after many writes: merge its GIN indexes' pending lists and refresh its
-- planner statistics.
--
-- The search table's GIN indexes (trigrams, tsvector) take new entries into a pending list that
-- every search reads through in full until it is merged, at 4 MB or by autovacuum. Right after an
-- import of the 131,650-row file the projector had caught up but searches took 150 ms at p95
-- instead of 20 ms: the pending lists (merged in about 0.1 s) and a table that had grown from
-- empty without statistics yet (the planner chose a city's whole range for "Ridge" in Nashua;
-- ANALYZE, about 0.6 s) until autovacuum came round, a minute or more later. The projector calls
-- this once it has caught up after writing many documents (projections/runner.ts), and a rebuild
-- before it swaps its copy in, so nobody searches an unsettled index.
--
-- ANALYZE and gin_clean_pending_list need the table's owner (or, from PostgreSQL 17, MAINTAIN),
-- which the runtime role is not; like the rebuild's table functions, this one acts as the owner
-- and only on registered read models and their rebuild copies (read_model_check refuses the rest).
CREATE FUNCTION "read_model_settle"(p_table TEXT) RETURNS VOID
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_live TEXT := CASE WHEN p_table LIKE '%\_rebuild' THEN left(p_table, -length('_rebuild')) ELSE p_table END;
  v_table REGCLASS;
  r RECORD;
BEGIN
  PERFORM public.read_model_check(v_live);
  v_table := to_regclass(format('public.%I', p_table));
  IF v_table IS NULL THEN
    RAISE EXCEPTION 'read model % does not exist', p_table USING ERRCODE = '42P01';
  END IF;
  FOR r IN
    SELECT x.indexrelid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am a ON a.oid = i.relam
     WHERE x.indrelid = v_table AND a.amname = 'gin'
  LOOP
    PERFORM gin_clean_pending_list(r.indexrelid::regclass);
  END LOOP;
  EXECUTE format('ANALYZE %s', v_table);
END;
$$;

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;
REVOKE ALL ON FUNCTION "read_model_settle"(TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "read_model_settle"(TEXT) TO address_ledger_runtime;
