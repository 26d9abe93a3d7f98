-- The audit log (/audit, GET /api/audit, exports) reads the events table itself, newest first,
-- with keyset paging on position. Each filter gets an index whose second column is position, so a
-- page walks that index backwards and reads only the rows it shows instead of sorting every match
-- (a filtered page of a million events must not cost a full scan). See app/audit/_lib/audit-log.server.ts.

CREATE INDEX "events_audit_actor_id_idx" ON "events" ((metadata #>> '{actor,id}'), "position");
CREATE INDEX "events_audit_actor_name_idx" ON "events" ((lower(metadata #>> '{actor,name}')), "position");
CREATE INDEX "events_audit_type_idx" ON "events" ("type", "position");
CREATE INDEX "events_audit_source_idx" ON "events" ((metadata ->> 'source'), "position");
CREATE INDEX "events_audit_correlation_idx" ON "events" ((metadata ->> 'correlationId'), "position");
CREATE INDEX "events_audit_stream_idx" ON "events" ("stream_id", "position");

-- Reason text ("contains", case-insensitive): trigram index, so ILIKE '%…%' does not scan.
CREATE INDEX "events_audit_reason_trgm_idx" ON "events"
  USING gin ((coalesce(metadata ->> 'reason', data ->> 'reason', '')) gin_trgm_ops);

-- City: an event is "in" the city the address had once the event applied. The city is set by a
-- registration (data.city, both schema versions), a change (data.changes.city) or a correction
-- (data.fields.city). The first index finds the streams that ever had the city; the partial one
-- finds, per event, the latest city-setting event at or before it.
CREATE INDEX "events_audit_city_idx" ON "events"
  ((lower(coalesce(data ->> 'city', data #>> '{changes,city}', data #>> '{fields,city}'))), "stream_id")
  WHERE coalesce(data ->> 'city', data #>> '{changes,city}', data #>> '{fields,city}') IS NOT NULL;
CREATE INDEX "events_audit_city_setter_idx" ON "events" ("stream_id", "stream_version")
  WHERE coalesce(data ->> 'city', data #>> '{changes,city}', data #>> '{fields,city}') IS NOT NULL;
