-- The access trail: who looked at or exported what (audit pages, exports, timeline views).
-- Append-only like `events`: the database refuses UPDATE, DELETE and TRUNCATE for every user.

CREATE TABLE "access_log" (
  "id"          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- When the access happened (the application's clock: rows are written in batches, later).
  "accessed_at" TIMESTAMPTZ(6) NOT NULL,
  "recorded_at" TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "actor_id"    TEXT NOT NULL,
  "actor_name"  TEXT NOT NULL,
  "actor_role"  TEXT NOT NULL,
  -- audit.page | audit.export | timeline.view | access.page
  "action"      TEXT NOT NULL,
  -- The address looked at, when there is one.
  "address_id"  TEXT,
  -- The filter as the caller gave it (qualifiers, format, versions), never secrets.
  "filter"      JSONB NOT NULL DEFAULT '{}',
  "row_count"   INTEGER NOT NULL CHECK ("row_count" >= 0),
  "request_id"  TEXT
);

CREATE INDEX "access_log_accessed_at_idx" ON "access_log" ("accessed_at");
CREATE INDEX "access_log_actor_idx" ON "access_log" ("actor_id", "id");
CREATE INDEX "access_log_action_idx" ON "access_log" ("action", "id");
CREATE INDEX "access_log_address_idx" ON "access_log" ("address_id", "id") WHERE "address_id" IS NOT NULL;

CREATE FUNCTION "access_log_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "access_log_no_update" BEFORE UPDATE ON "access_log"
  FOR EACH ROW EXECUTE FUNCTION "access_log_refuse_change"();
CREATE TRIGGER "access_log_no_delete" BEFORE DELETE ON "access_log"
  FOR EACH ROW EXECUTE FUNCTION "access_log_refuse_change"();
CREATE TRIGGER "access_log_no_truncate" BEFORE TRUNCATE ON "access_log"
  FOR EACH STATEMENT EXECUTE FUNCTION "access_log_refuse_change"();

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;
GRANT SELECT, INSERT ON "access_log" TO address_ledger_runtime;
GRANT USAGE ON SEQUENCE "access_log_id_seq" TO address_ledger_runtime;
