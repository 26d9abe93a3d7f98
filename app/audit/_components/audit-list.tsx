import Link from 'next/link';
import { FIELD_LABELS, formatRelative, formatTimestamp } from '../../addresses/_lib/labels';
import type { ActedVia, AuditRow } from '../_lib/audit-rows';

function viaText(via: ActedVia): string {
  switch (via.kind) {
    case 'token':
      return `API token “${via.name}”`;
    case 'session':
      return 'signed-in session';
    case 'system':
      return 'system';
    case 'unknown':
      return 'unknown';
    default: {
      const never: never = via.kind;
      return never;
    }
  }
}

/**
 * The events, newest first, each in domain language with who, how, when, why and a link.
 * Links here never prefetch: the pages they open record each view in the access trail, and a
 * prefetch would record views nobody made.
 */
export function AuditList({ rows, now }: { rows: readonly AuditRow[]; now: Date }) {
  return (
    <ol className="audit-list">
      {rows.map((row) => (
        <li key={row.position} className={`audit-row event-${row.type}`}>
          <div className="audit-row-head">
            <strong className="event-label">{row.label}</strong>
            <Link prefetch={false} href={`/addresses/${row.addressId}/history?version=${row.version}#v${row.version}`}>
              Address {row.addressId.slice(0, 8)} at version {row.version}
            </Link>
            <span className="audit-time">
              <time dateTime={row.recordedAt}>{formatTimestamp(row.recordedAt)}</time>{' '}
              <span className="muted">({formatRelative(row.recordedAt, now)})</span>
            </span>
          </div>
          {row.changes.length > 0 ? (
            <ul className="audit-changes">
              {row.changes.map((d) => (
                <li key={d.field}>
                  <span className="audit-field">{FIELD_LABELS[d.field]}</span>{' '}
                  {row.type === 'AddressRegistered' ? (
                    <span className="after">{d.after}</span>
                  ) : (
                    <>
                      <span className="before">{d.before ?? 'not set'}</span> <span aria-hidden="true">→</span>
                      <span className="visually-hidden">changed to</span>{' '}
                      <span className="after">{d.after ?? 'cleared'}</span>
                    </>
                  )}
                </li>
              ))}
            </ul>
          ) : (
            <p className="audit-summary">{row.summary}</p>
          )}
          <p className="meta">
            by <strong>{row.actor.name}</strong> ({row.actor.role}) · {viaText(row.via)} · via {row.source}
            {row.corrects !== undefined
              ? ` · ${row.revertOf !== undefined ? 'undoes' : 'corrects'} version ${row.corrects}`
              : ''}
          </p>
          {row.reason ? (
            <p className="reason">
              <span className="label">Reason:</span> {row.reason}
            </p>
          ) : null}
          <p className="audit-ids muted">
            Position {row.position} · correlation <code>{row.correlationId}</code>
          </p>
        </li>
      ))}
    </ol>
  );
}
