import Link from 'next/link';
import { ADDRESS_FIELDS, changedFieldNames, fieldValue } from '@/domain/address';
import { formatChange } from '../../audit/_lib/audit-rows';
import { EVENT_LABELS, FIELD_LABELS, formatTimestamp } from '../_lib/labels';
import type { TimelineEntry } from '../_lib/timeline';
import { StatusBadge } from './address-view';

function pointLabel(entry: TimelineEntry): string {
  return `Version ${entry.version} · ${formatTimestamp(entry.recordedAt)}`;
}

/** The address at two points side by side; rows that differ are marked in words and colour. */
export function CompareTable({ from, to }: { from: TimelineEntry; to: TimelineEntry }) {
  const differs = new Set(changedFieldNames(from.fieldsAfter, to.fieldsAfter));
  const value = (e: TimelineEntry, f: (typeof ADDRESS_FIELDS)[number]) =>
    e.fieldsAfter ? fieldValue(e.fieldsAfter, f) : null;
  return (
    <div className="audit-table-wrap">
      <table className="audit-table compare-table">
        <caption>
          {differs.size === 0
            ? 'No field differs between the two versions.'
            : `${differs.size} ${differs.size === 1 ? 'field differs' : 'fields differ'}: ${[...differs].map((f) => FIELD_LABELS[f]).join(', ')}.`}
        </caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">{pointLabel(from)}</th>
            <th scope="col">{pointLabel(to)}</th>
          </tr>
        </thead>
        <tbody>
          {ADDRESS_FIELDS.map((f) => (
            <tr key={f} className={differs.has(f) ? 'differs' : undefined} data-field={f}>
              <th scope="row">
                {FIELD_LABELS[f]}
                {differs.has(f) ? <span className="differs-mark"> (differs)</span> : null}
              </th>
              <td data-label={`Version ${from.version}`}>{value(from, f) ?? <span className="empty">not set</span>}</td>
              <td data-label={`Version ${to.version}`}>{value(to, f) ?? <span className="empty">not set</span>}</td>
            </tr>
          ))}
          <tr className={from.statusAfter !== to.statusAfter ? 'differs' : undefined} data-field="status">
            <th scope="row">
              Status
              {from.statusAfter !== to.statusAfter ? <span className="differs-mark"> (differs)</span> : null}
            </th>
            <td data-label={`Version ${from.version}`}>
              <StatusBadge status={from.statusAfter} />
            </td>
            <td data-label={`Version ${to.version}`}>
              <StatusBadge status={to.statusAfter} />
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

/** What happened in between: the events after `from` up to and including `to`, oldest first. */
export function EventsBetween({ entries, addressId }: { entries: readonly TimelineEntry[]; addressId: string }) {
  if (entries.length === 0) return <p className="muted">No events in between: these are the same version.</p>;
  return (
    <ol className="audit-list">
      {entries.map((e) => (
        <li key={e.version} className="audit-row">
          <div className="audit-row-head">
            <strong>{e.revertOf !== undefined ? 'Reverted' : EVENT_LABELS[e.type]}</strong>
            <Link prefetch={false} href={`/addresses/${addressId}/history?version=${e.version}#v${e.version}`}>
              Version {e.version}
            </Link>
            <time dateTime={e.recordedAt}>{formatTimestamp(e.recordedAt)}</time>
            <span>
              by {e.actor.name} ({e.actor.role})
            </span>
          </div>
          <p>
            {e.diffs.length > 0
              ? e.diffs.map(formatChange).join('; ')
              : e.statusBefore !== e.statusAfter
                ? `Status ${e.statusBefore} → ${e.statusAfter}`
                : 'No field values changed'}
          </p>
          {e.reason ? <p className="reason">Reason: {e.reason}</p> : null}
        </li>
      ))}
    </ol>
  );
}
