-- The event store: one append-only table in global order, plus the record of processed commands.

CREATE TABLE "events" (
  "position"       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "stream_id"      TEXT        NOT NULL,
  "stream_version" INTEGER     NOT NULL CHECK ("stream_version" >= 1),
  "event_id"       UUID        NOT NULL,
  "type"           TEXT        NOT NULL,
  "schema_version" INTEGER     NOT NULL CHECK ("schema_version" >= 1),
  "data"           JSONB       NOT NULL,
  "metadata"       JSONB       NOT NULL,
  "recorded_at"    TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  -- The writing transaction: readers of the global order use it to avoid skipping an event whose
  -- transaction commits after a later position is already visible.
  "transaction_id" XID8        NOT NULL DEFAULT pg_current_xact_id()
);

CREATE UNIQUE INDEX "events_event_id_key" ON "events" ("event_id");
CREATE UNIQUE INDEX "events_stream_id_stream_version_key" ON "events" ("stream_id", "stream_version");
CREATE INDEX "events_transaction_id_position_idx" ON "events" ("transaction_id", "position");
CREATE INDEX "events_recorded_at_idx" ON "events" ("recorded_at");

-- Immutability is the database's job, not the application's: a bug or a hand-typed statement
-- must not be able to rewrite history.
CREATE FUNCTION "events_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are immutable: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Append a corrective event instead.';
END;
$$;

CREATE TRIGGER "events_no_update" BEFORE UPDATE ON "events"
  FOR EACH ROW EXECUTE FUNCTION "events_refuse_change"();
CREATE TRIGGER "events_no_delete" BEFORE DELETE ON "events"
  FOR EACH ROW EXECUTE FUNCTION "events_refuse_change"();
CREATE TRIGGER "events_no_truncate" BEFORE TRUNCATE ON "events"
  FOR EACH STATEMENT EXECUTE FUNCTION "events_refuse_change"();

CREATE TABLE "processed_commands" (
  "command_id"   TEXT PRIMARY KEY,
  "request_hash" TEXT NOT NULL,
  "stream_id"    TEXT NOT NULL,
  "result"       JSONB NOT NULL,
  "created_at"   TIMESTAMPTZ(6) NOT NULL DEFAULT now()
);
