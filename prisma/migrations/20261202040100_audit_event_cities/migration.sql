-- The audit log's `city:` filter in index order (issue 11). An event is "in" the city its address
-- had once the event applied: the city of the latest city-setting event of its stream at or before
-- it (a registration's data.city, a change's data.changes.city, a correction's data.fields.city).
-- Answered from the events alone, that needed every event of every stream that ever had the city,
-- sorted, for each page (about 0.6 s at 100,000 events, growing with the matches). This table holds
-- that city for each event, lower-cased, with an index on (city, position): a page of `city:` walks
-- it backwards and reads about as many rows as it shows (app/audit/_lib/audit-log.server.ts).
--
-- Kept exact by a statement trigger on `events`, in the appending statement itself (no lag, like
-- the hash chain and the duplicate guard): one set-based INSERT per statement, so a batch import of
-- 1,000 rows costs one more INSERT, not 1,000.
CREATE TABLE "audit_event_cities" (
  "position"       BIGINT PRIMARY KEY,
  "stream_id"      TEXT NOT NULL,
  "stream_version" INTEGER NOT NULL,
  "city"           TEXT NOT NULL
);
CREATE INDEX "audit_event_cities_city_idx" ON "audit_event_cities" ("city", "position");
-- The city an event without one inherits: its stream's latest row.
CREATE INDEX "audit_event_cities_stream_idx" ON "audit_event_cities" ("stream_id", "stream_version");

-- SECURITY DEFINER: the runtime role may read the table but never write it; only appended events do.
CREATE FUNCTION "events_record_audit_city"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  INSERT INTO audit_event_cities ("position", stream_id, stream_version, city)
  SELECT n.position, n.stream_id, n.stream_version, c.city
    FROM new_events n
    CROSS JOIN LATERAL (
      SELECT CASE
        WHEN coalesce(n.data ->> 'city', n.data #>> '{changes,city}', n.data #>> '{fields,city}') IS NOT NULL
          THEN lower(coalesce(n.data ->> 'city', n.data #>> '{changes,city}', n.data #>> '{fields,city}'))
        ELSE coalesce(
          -- An earlier event of the same statement (several events of one command) ...
          (SELECT lower(coalesce(m.data ->> 'city', m.data #>> '{changes,city}', m.data #>> '{fields,city}'))
             FROM new_events m
            WHERE m.stream_id = n.stream_id AND m.stream_version < n.stream_version
              AND coalesce(m.data ->> 'city', m.data #>> '{changes,city}', m.data #>> '{fields,city}') IS NOT NULL
            ORDER BY m.stream_version DESC LIMIT 1),
          -- ... else the stream's city before this statement.
          (SELECT a.city FROM audit_event_cities a
            WHERE a.stream_id = n.stream_id AND a.stream_version < n.stream_version
            ORDER BY a.stream_version DESC LIMIT 1))
      END AS city
    ) c
   WHERE c.city IS NOT NULL;
  RETURN NULL;
END;
$$;

CREATE TRIGGER "events_record_audit_city" AFTER INSERT ON "events"
  REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION "events_record_audit_city"();

-- Backfill: each stream's events in version order; `grp` counts the city-setting events so far,
-- and every event takes the city of the setter that opened its group (none before the first).
INSERT INTO audit_event_cities ("position", stream_id, stream_version, city)
SELECT position, stream_id, stream_version, city FROM (
  SELECT position, stream_id, stream_version,
         first_value(setter) OVER (PARTITION BY stream_id, grp ORDER BY stream_version) AS city, grp
    FROM (
      SELECT position, stream_id, stream_version,
             lower(coalesce(data ->> 'city', data #>> '{changes,city}', data #>> '{fields,city}')) AS setter,
             count(coalesce(data ->> 'city', data #>> '{changes,city}', data #>> '{fields,city}'))
               OVER (PARTITION BY stream_id ORDER BY stream_version) AS grp
        FROM events
    ) s
) t
WHERE grp > 0;

-- The old path's indexes served only the `city:` filter.
DROP INDEX IF EXISTS "events_audit_city_idx";
DROP INDEX IF EXISTS "events_audit_city_setter_idx";

DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'address_ledger_runtime') THEN
    CREATE ROLE address_ledger_runtime NOLOGIN;
  END IF;
END $$;
GRANT SELECT ON "audit_event_cities" TO address_ledger_runtime;
REVOKE EXECUTE ON FUNCTION "events_record_audit_city"() FROM PUBLIC;
