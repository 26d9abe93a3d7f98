import type { RecordedEvent } from '@/domain/messages';

/** The public JSON shape of a stored event (DESIGN §6). */
export function eventJson(e: RecordedEvent) {
  return {
    eventId: e.eventId,
    streamId: e.streamId,
    type: e.type,
    version: e.streamVersion,
    position: e.position,
    schemaVersion: e.schemaVersion,
    recordedAt: e.recordedAt,
    data: e.data,
    metadata: e.metadata,
  };
}
