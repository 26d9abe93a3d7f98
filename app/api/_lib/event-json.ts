import type { RecordedEvent } from '@/domain/messages';

/** The public JSON shape of a stored event (DESIGN §6); feed events also carry their resume cursor. */
export function eventJson(e: RecordedEvent & { cursor?: string }) {
  return {
    ...(e.cursor ? { cursor: e.cursor } : {}),
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
