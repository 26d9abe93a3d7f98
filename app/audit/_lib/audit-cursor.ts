/**
 * Where a walk through the audit log stands: the database snapshot it reads (so every page shows
 * the same set of events, see audit-log.server.ts) and the position to continue below.
 * Opaque to callers: base64url of `<before>.<snapshot>`.
 */
export interface AuditCursor {
  /** `pg_snapshot` text, `xmin:xmax:xip,…`. */
  snapshot: string;
  /** Continue with positions below this; null = from the newest. */
  before: string | null;
}

const SNAPSHOT = /^\d{1,20}:\d{1,20}:(\d{1,20}(,\d{1,20}){0,199})?$/;
const POSITION = /^\d{1,19}$/;

export function encodeAuditCursor(cursor: AuditCursor): string {
  return Buffer.from(`${cursor.before ?? ''}.${cursor.snapshot}`, 'utf8').toString('base64url');
}

/** The cursor, or null when the text is not one this app wrote. */
export function decodeAuditCursor(text: string): AuditCursor | null {
  if (!/^[A-Za-z0-9_-]{1,6000}$/.test(text)) return null;
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const dot = decoded.indexOf('.');
  if (dot < 0) return null;
  const before = decoded.slice(0, dot);
  const snapshot = decoded.slice(dot + 1);
  if (!SNAPSHOT.test(snapshot) || (before !== '' && !POSITION.test(before))) return null;
  return { snapshot, before: before === '' ? null : before };
}
