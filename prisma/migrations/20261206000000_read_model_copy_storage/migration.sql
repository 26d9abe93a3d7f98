-- A rebuild's copy of a read model keeps the live table's storage parameters. `LIKE … INCLUDING
-- ALL` copies columns, defaults, constraints and indexes but not reloptions, so after the first
-- rebuild swapped its copy in, `address_search_words` was back at the default fill and its
-- vocabulary upserts left a dead row version (and index entries) per change again: the slowdown
-- migration 20261203020000_search_speed set fillfactor 50 to prevent. The copy becomes the live
-- table, so it takes the same settings before anything is written to it.
CREATE OR REPLACE FUNCTION "read_model_copy_create"(p_live TEXT) RETURNS TEXT
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_next    TEXT := public.read_model_check(p_live);
  v_options TEXT[];
BEGIN
  EXECUTE format('DROP TABLE IF EXISTS public.%I', v_next);
  EXECUTE format('CREATE TABLE public.%I (LIKE public.%I INCLUDING ALL)', v_next, p_live);
  SELECT c.reloptions INTO v_options FROM pg_class c WHERE c.oid = format('public.%I', p_live)::regclass;
  IF v_options IS NOT NULL THEN
    -- reloptions hold validated `name=value` pairs, which SET (…) takes as they are.
    EXECUTE format('ALTER TABLE public.%I SET (%s)', v_next, array_to_string(v_options, ', '));
  END IF;
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON public.%I TO address_ledger_runtime', v_next);
  RETURN v_next;
END;
$$;
