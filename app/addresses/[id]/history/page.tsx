import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Main } from '@/app/_components/main';
import { trackAccess } from '@/lib/access-log';
import { pageActor } from '@/lib/auth/request-actor';
import { FieldTable, FormattedAddress, StatusBadge } from '../../_components/address-view';
import { EventTypeSelect } from '../../_components/event-type-select';
import { HistoryBreadcrumb } from '../../_components/history-breadcrumb';
import { addressTitle, loadTimeline } from '../../_lib/address.server';
import { EVENT_LABELS, FIELD_LABELS, formatTimestamp, parseAt } from '../../_lib/labels';
import { filterTimeline, type TimelineEntry, timelinePage, timelineQuery } from '../../_lib/timeline';

interface Props {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const record = await loadTimeline((await params).id);
  const fields = record?.timeline.at(-1)?.fieldsAfter;
  return { title: fields ? `History of ${addressTitle(fields)}` : addressTitle(undefined) };
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

type PointInTime =
  | { kind: 'none' }
  | { kind: 'error'; message: string }
  | { kind: 'state'; title: string; entry: TimelineEntry };

/**
 * Every event of one address, exact (read from the event store, not a projection): who, when,
 * why, and what changed; plus the address as it was at any version or instant.
 */
export default async function AddressHistoryPage({ params, searchParams }: Props) {
  const { id } = await params;
  const actor = await pageActor('address:read', `/addresses/${id}/history`);
  const record = await loadTimeline(id);
  const current = record?.timeline.at(-1);
  if (!record || !current?.fieldsAfter) notFound();
  const { addressId, timeline } = record;
  const raw = await searchParams;
  const versionParam = one(raw.version)?.trim();
  const atParam = one(raw.at)?.trim();
  const query = timelineQuery.parse({ type: one(raw.type), actor: one(raw.actor), before: one(raw.before) });
  const point = pointInTime(timeline, versionParam, atParam);
  const matching = filterTimeline(timeline, query);
  const page = timelinePage(matching, query.before);
  trackAccess({
    actor,
    action: 'timeline.view',
    addressId,
    filter: { version: versionParam, at: atParam, type: query.type, actor: query.actor, before: query.before },
    rowCount: page.entries.length,
  });
  const fields = current.fieldsAfter;
  const base = `/addresses/${addressId}/history`;
  const pageHref = (before?: number) => {
    const qs = new URLSearchParams();
    if (query.type) qs.set('type', query.type);
    if (query.actor) qs.set('actor', query.actor);
    if (before !== undefined) qs.set('before', String(before));
    const s = qs.toString();
    return s ? `${base}?${s}#timeline-heading` : `${base}#timeline-heading`;
  };

  return (
    <Main>
      <HistoryBreadcrumb addressId={addressId} line1={fields.line1} />
      <header className="page-header">
        <div>
          <h1>History</h1>
          <p className="meta">
            {addressTitle(fields)} · <StatusBadge status={current.statusAfter} />{' '}
            <span className="version-pill">Version {current.version}</span> · {timeline.length}{' '}
            {timeline.length === 1 ? 'event' : 'events'}, newest first
          </p>
        </div>
      </header>

      <section className="card" aria-labelledby="as-of-heading">
        <h2 id="as-of-heading">See the address as it was</h2>
        <div className="as-of-forms">
          <form method="get" className="inline-form">
            <label htmlFor="as-of-version">At version</label>
            <input
              id="as-of-version"
              name="version"
              type="number"
              min={1}
              max={current.version}
              inputMode="numeric"
              defaultValue={versionParam ?? String(current.version)}
            />
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
              <StatusBadge status={point.entry.statusAfter} />{' '}
              <span className="version-pill">Version {point.entry.version}</span> recorded{' '}
              {formatTimestamp(point.entry.recordedAt)} by {point.entry.actor.name}
              {point.entry.version < current.version ? (
                <>
                  {' '}
                  · {current.version - point.entry.version} later{' '}
                  {current.version - point.entry.version === 1 ? 'event' : 'events'} since ·{' '}
                  <Link
                    prefetch={false}
                    href={`/addresses/${addressId}/compare?from=${point.entry.version}&to=${current.version}`}
                  >
                    Compare with current
                  </Link>
                </>
              ) : (
                <> · this is the current version</>
              )}
            </p>
            <div className="two-col">
              <FormattedAddress fields={point.entry.fieldsAfter!} />
              <FieldTable fields={point.entry.fieldsAfter!} />
            </div>
            <p>
              <Link prefetch={false} href={`/addresses/${addressId}/history`}>
                Close
              </Link>
            </p>
          </div>
        ) : null}
      </section>

      <section aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <form method="get" action={base} className="inline-form timeline-filters" aria-label="Filter the timeline">
          <label htmlFor="timeline-type">Event type</label>
          <EventTypeSelect id="timeline-type" defaultValue={query.type} />
          <label htmlFor="timeline-actor">Actor</label>
          <input id="timeline-actor" name="actor" defaultValue={query.actor ?? ''} maxLength={200} />
          <button type="submit" className="button">
            Filter
          </button>
        </form>
        <p className="meta" aria-live="polite">
          {matching.length === timeline.length
            ? `${timeline.length} ${timeline.length === 1 ? 'event' : 'events'}`
            : `${matching.length} of ${timeline.length} events match`}
          {page.entries.length > 0 && page.entries.length < matching.length
            ? ` · showing versions ${page.entries[0]!.version} to ${page.entries.at(-1)!.version}`
            : ''}
        </p>
        <ol className="timeline">
          {page.entries.map((entry) => (
            <TimelineItem key={entry.version} entry={entry} addressId={addressId} current={current.version} />
          ))}
        </ol>
        <nav className="pagination" aria-label="Timeline pages">
          {query.before !== undefined ? (
            <Link prefetch={false} href={pageHref()}>
              Newest
            </Link>
          ) : null}
          {page.olderBefore !== null ? (
            <Link prefetch={false} href={pageHref(page.olderBefore)} rel="next">
              Older events
            </Link>
          ) : null}
        </nav>
      </section>
    </Main>
  );
}

function pointInTime(timeline: TimelineEntry[], version: string | undefined, at: string | undefined): PointInTime {
  if (version) {
    const n = Number(version);
    if (!Number.isInteger(n) || n < 1 || n > timeline.length) {
      return {
        kind: 'error',
        message: `There is no version ${version}: this address has versions 1 to ${timeline.length}.`,
      };
    }
    return { kind: 'state', title: `As it was at version ${n}`, entry: timeline[n - 1]! };
  }
  if (at) {
    const when = parseAt(at);
    if (!when) {
      return { kind: 'error', message: `“${at}” is not a time we understand. Use YYYY-MM-DD HH:MM (UTC).` };
    }
    const entry = timeline.findLast((e) => Date.parse(e.recordedAt) <= when.getTime());
    if (!entry?.fieldsAfter) {
      return {
        kind: 'error',
        message: `The address was not yet registered at ${formatTimestamp(when.toISOString())}; it was registered ${formatTimestamp(timeline[0]!.recordedAt)}.`,
      };
    }
    return { kind: 'state', title: `As it was at ${formatTimestamp(when.toISOString())}`, entry };
  }
  return { kind: 'none' };
}

function TimelineItem({ entry, addressId, current }: { entry: TimelineEntry; addressId: string; current: number }) {
  const base = `/addresses/${addressId}/history`;
  const compare = `/addresses/${addressId}/compare`;
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
        <table className="diff stack-table">
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
        <table className="diff stack-table">
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
                <td className="before" data-label="Before">
                  {d.before ?? <span className="empty">not set</span>}
                </td>
                <td className="after" data-label="After">
                  {d.after ?? <span className="empty">cleared</span>}
                </td>
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
        <Link prefetch={false} href={`${base}?version=${entry.version}#state`}>
          View the address at version {entry.version}
        </Link>
        {entry.version > 1 ? (
          <Link prefetch={false} href={`${compare}?from=${entry.version - 1}&to=${entry.version}`}>
            Compare with previous
          </Link>
        ) : null}
        {entry.version < current ? (
          <Link prefetch={false} href={`${compare}?from=${entry.version}&to=${current}`}>
            Compare with current
          </Link>
        ) : null}
      </p>
    </li>
  );
}
