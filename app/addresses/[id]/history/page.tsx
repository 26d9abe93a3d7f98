import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { type AddressState, stateAt } from '@/domain/address';
import { pageActor } from '@/lib/auth/request-actor';
import { FieldTable, FormattedAddress, StatusBadge } from '../../_components/address-view';
import { loadAddress } from '../../_lib/address.server';
import { EVENT_LABELS, FIELD_LABELS, formatTimestamp, parseAt } from '../../_lib/labels';
import { buildTimeline, type TimelineEntry } from '../../_lib/timeline';

interface Props {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  return { title: `History of address ${id.slice(0, 8)}` };
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

type PointInTime =
  | { kind: 'none' }
  | { kind: 'error'; message: string }
  | { kind: 'state'; title: string; state: AddressState; lastEntry: TimelineEntry };

/**
 * Every event of one address, exact (read from the event store, not a projection): who, when,
 * why, and what changed; plus the address as it was at any version or instant.
 */
export default async function AddressHistoryPage({ params, searchParams }: Props) {
  const { id } = await params;
  await pageActor('address:read', `/addresses/${id}/history`);
  const record = await loadAddress(id);
  if (!record?.state.fields) notFound();
  const { addressId, events, state } = record;
  const timeline = buildTimeline(events);
  const query = await searchParams;
  const versionParam = one(query.version)?.trim();
  const atParam = one(query.at)?.trim();
  const point = pointInTime(record.events, timeline, versionParam, atParam);
  const newestFirst = [...timeline].reverse();

  return (
    <main>
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link href="/addresses">Addresses</Link> <span aria-hidden="true">›</span>{' '}
        <Link href={`/addresses/${addressId}`}>{state.fields!.line1}</Link> <span aria-hidden="true">›</span> History
      </nav>
      <header className="page-header">
        <div>
          <h1>History</h1>
          <p className="meta">
            {state.fields!.line1}, {state.fields!.city} · <StatusBadge status={state.status} />{' '}
            <span className="version-pill">Version {state.version}</span> · {timeline.length}{' '}
            {timeline.length === 1 ? 'event' : 'events'}, newest first
          </p>
        </div>
      </header>

      <section className="card" aria-labelledby="as-of-heading">
        <h2 id="as-of-heading">See the address as it was</h2>
        <div className="as-of-forms">
          <form method="get" className="inline-form">
            <label htmlFor="as-of-version">At version</label>
            <select id="as-of-version" name="version" defaultValue={versionParam ?? String(state.version)}>
              {timeline.map((e) => (
                <option key={e.version} value={e.version}>
                  {e.version} · {EVENT_LABELS[e.type]}
                </option>
              ))}
            </select>
            <button type="submit" className="button">
              Show
            </button>
          </form>
          <form method="get" className="inline-form">
            <label htmlFor="as-of-at">As of time (UTC)</label>
            <input
              id="as-of-at"
              name="at"
              type="text"
              inputMode="numeric"
              placeholder="2026-01-31 12:00"
              defaultValue={atParam ?? ''}
              aria-describedby="as-of-at-hint"
            />
            <button type="submit" className="button">
              Show
            </button>
            <span id="as-of-at-hint" className="hint">
              YYYY-MM-DD, optionally with HH:MM[:SS]; or a full ISO-8601 time.
            </span>
          </form>
        </div>
        {point.kind === 'error' ? (
          <p className="notice notice-error" role="alert">
            {point.message}
          </p>
        ) : null}
        {point.kind === 'state' ? (
          <div className="point-in-time" id="state">
            <h3>{point.title}</h3>
            <p className="meta">
              <StatusBadge status={point.state.status} />{' '}
              <span className="version-pill">Version {point.state.version}</span> recorded{' '}
              {formatTimestamp(point.lastEntry.recordedAt)} by {point.lastEntry.actor.name}
              {point.state.version < state.version ? (
                <>
                  {' '}
                  · {state.version - point.state.version} later{' '}
                  {state.version - point.state.version === 1 ? 'event' : 'events'} since
                </>
              ) : (
                <> · this is the current version</>
              )}
            </p>
            <div className="two-col">
              <FormattedAddress fields={point.state.fields!} />
              <FieldTable fields={point.state.fields!} />
            </div>
            <p>
              <Link href={`/addresses/${addressId}/history`}>Close</Link>
            </p>
          </div>
        ) : null}
      </section>

      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <ol className="timeline">
          {newestFirst.map((entry) => (
            <TimelineItem key={entry.version} entry={entry} addressId={addressId} />
          ))}
        </ol>
      </section>
    </main>
  );
}

function pointInTime(
  events: Parameters<typeof stateAt>[0],
  timeline: TimelineEntry[],
  version: string | undefined,
  at: string | undefined,
): PointInTime {
  if (version) {
    const n = Number(version);
    if (!Number.isInteger(n) || n < 1 || n > timeline.length) {
      return {
        kind: 'error',
        message: `There is no version ${version}: this address has versions 1 to ${timeline.length}.`,
      };
    }
    return {
      kind: 'state',
      title: `As it was at version ${n}`,
      state: stateAt(events, { version: n }),
      lastEntry: timeline[n - 1]!,
    };
  }
  if (at) {
    const when = parseAt(at);
    if (!when) {
      return { kind: 'error', message: `“${at}” is not a time we understand. Use YYYY-MM-DD HH:MM (UTC).` };
    }
    const state = stateAt(events, { at: when });
    if (state.version === 0 || !state.fields) {
      return {
        kind: 'error',
        message: `The address was not yet registered at ${formatTimestamp(when.toISOString())}; it was registered ${formatTimestamp(timeline[0]!.recordedAt)}.`,
      };
    }
    return {
      kind: 'state',
      title: `As it was at ${formatTimestamp(when.toISOString())}`,
      state,
      lastEntry: timeline[state.version - 1]!,
    };
  }
  return { kind: 'none' };
}

function TimelineItem({ entry, addressId }: { entry: TimelineEntry; addressId: string }) {
  const base = `/addresses/${addressId}/history`;
  return (
    <li className={`timeline-item event-${entry.type}`} id={`v${entry.version}`}>
      <div className="timeline-head">
        <span className="version-pill">v{entry.version}</span>
        <strong className="event-label">{entry.revertOf !== undefined ? 'Reverted' : EVENT_LABELS[entry.type]}</strong>
        <time dateTime={entry.recordedAt}>{formatTimestamp(entry.recordedAt)}</time>
        <span className="who">
          by {entry.actor.name} <span className="role">({entry.actor.role})</span>
        </span>
        <span className="source">via {entry.source}</span>
      </div>
      {entry.corrects !== undefined ? (
        <p className="links">
          {entry.revertOf !== undefined ? 'Undoes' : 'Corrects'}{' '}
          <a href={`#v${entry.corrects}`}>version {entry.corrects}</a>
        </p>
      ) : null}
      {entry.correctedBy.length > 0 ? (
        <p className="links">
          Corrected by{' '}
          {entry.correctedBy.map((v, i) => (
            <span key={v}>
              {i > 0 ? ', ' : null}
              <a href={`#v${v}`}>version {v}</a>
            </span>
          ))}
        </p>
      ) : null}
      {entry.reason ? (
        <p className="reason">
          <span className="label">Reason:</span> {entry.reason}
        </p>
      ) : null}
      {entry.type === 'AddressRegistered' ? (
        <table className="diff">
          <caption className="visually-hidden">Values recorded in version {entry.version}</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Recorded value</th>
            </tr>
          </thead>
          <tbody>
            {entry.diffs.map((d) => (
              <tr key={d.field}>
                <th scope="row">{FIELD_LABELS[d.field]}</th>
                <td>{d.after}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : entry.diffs.length > 0 ? (
        <table className="diff">
          <caption className="visually-hidden">Fields changed in version {entry.version}</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {entry.diffs.map((d) => (
              <tr key={d.field}>
                <th scope="row">{FIELD_LABELS[d.field]}</th>
                <td className="before">{d.before ?? <span className="empty">not set</span>}</td>
                <td className="after">{d.after ?? <span className="empty">cleared</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : entry.statusBefore !== entry.statusAfter && entry.statusBefore ? (
        <p className="status-change">
          Status: {entry.statusBefore} → {entry.statusAfter}
        </p>
      ) : (
        <p className="muted">No field values changed.</p>
      )}
      <p className="timeline-foot">
        <Link href={`${base}?version=${entry.version}#state`}>View the address at version {entry.version}</Link>
      </p>
    </li>
  );
}
