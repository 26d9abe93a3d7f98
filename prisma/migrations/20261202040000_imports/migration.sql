-- Uploads on /import (lib/import-jobs.ts): each run's state lives here, so its progress shows on
-- every app instance and after the page was closed, and its report of rejected rows can be
-- downloaded later. The rows themselves go in through the same import core as `npm run import`.
CREATE TABLE "imports" (
  "id"              UUID PRIMARY KEY,
  "source"          TEXT NOT NULL,
  "file_name"       TEXT NOT NULL,
  "file_bytes"      BIGINT NOT NULL,
  "status"          TEXT NOT NULL CHECK ("status" IN ('running', 'done', 'failed')),
  "started_by_id"   TEXT NOT NULL,
  "started_by_name" TEXT NOT NULL,
  "correlation_id"  TEXT NOT NULL,
  -- The file's header row (the report's columns), once read.
  "header"          JSONB NOT NULL DEFAULT '[]',
  "bytes_read"      BIGINT NOT NULL DEFAULT 0,
  "rows"            INTEGER NOT NULL DEFAULT 0,
  "registered"      INTEGER NOT NULL DEFAULT 0,
  "unchanged"       INTEGER NOT NULL DEFAULT 0,
  "duplicates"      INTEGER NOT NULL DEFAULT 0,
  "rejected"        INTEGER NOT NULL DEFAULT 0,
  "error"           TEXT,
  "started_at"      TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "updated_at"      TIMESTAMPTZ(6) NOT NULL DEFAULT now(),
  "finished_at"     TIMESTAMPTZ(6)
);
-- One run at a time per source: the second insert of a running source fails, on any instance.
-- (A run whose process died is found by its advisory lock being free and closed as failed.)
CREATE UNIQUE INDEX "imports_one_running_per_source" ON "imports" ("source") WHERE "status" = 'running';
CREATE INDEX "imports_started_at_idx" ON "imports" ("started_at" DESC);

-- The rejected rows of a run, for its report: the row number, every reason, the row as read.
CREATE TABLE "import_rejections" (
  "import_id"  UUID NOT NULL REFERENCES "imports" ("id"),
  "row_number" INTEGER NOT NULL,
  "reasons"    TEXT NOT NULL,
  "raw"        JSONB NOT NULL,
  PRIMARY KEY ("import_id", "row_number")
);

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;
GRANT SELECT, INSERT, UPDATE ON "imports" TO address_ledger_runtime;
GRANT SELECT, INSERT ON "import_rejections" TO address_ledger_runtime;
