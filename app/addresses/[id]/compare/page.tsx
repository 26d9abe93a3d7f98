import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { trackAccess } from '@/lib/access-log';
import { pageActor } from '@/lib/auth/request-actor';
import { CompareTable, EventsBetween } from '../../_components/compare-view';
import { HistoryBreadcrumb } from '../../_components/history-breadcrumb';
import { addressTitle, loadTimeline } from '../../_lib/address.server';
import { formatTimestamp, parseAt } from '../../_lib/labels';
import type { TimelineEntry } from '../../_lib/timeline';
import '../../../audit/audit.css';
import { Main } from '@/app/_components/main';

interface Props {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const record = await loadTimeline((await params).id);
  const fields = record?.timeline.at(-1)?.fieldsAfter;
  return { title: fields ? `Compare versions of ${addressTitle(fields)}` : addressTitle(undefined) };
}

function one(value: string | string[] | undefined): string | undefined {
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}

/** A point on the timeline: a version number, `current`, or a time (the version in force then). */
function resolvePoint(timeline: TimelineEntry[], text: string): TimelineEntry | string {
  if (text === 'current') return timeline.at(-1)!;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return timeline[n - 1] ?? `There is no version ${text}: this address has versions 1 to ${timeline.length}.`;
  }
  const when = parseAt(text);
  if (!when) return `“${text}” is neither a version number nor a time (YYYY-MM-DD HH:MM, UTC).`;
  return (
    timeline.findLast((e) => Date.parse(e.recordedAt) <= when.getTime()) ??
    `The address was not yet registered at ${formatTimestamp(when.toISOString())}.`
  );
}

/**
 * An address at two points of its timeline, side by side with the differing fields marked, and
 * the events between them. Points are versions or times (`?from=3&to=current`, `?from=2026-11-01`).
 */
export default async function ComparePage({ params, searchParams }: Props) {
  const { id } = await params;
  const actor = await pageActor('address:read', `/addresses/${id}/compare`);
  const record = await loadTimeline(id);
  if (!record) notFound();
  const { addressId, timeline } = record;
  const query = await searchParams;
  const fromText = one(query.from) ?? String(Math.max(1, timeline.length - 1));
  const toText = one(query.to) ?? 'current';
  let a = resolvePoint(timeline, fromText);
  let b = resolvePoint(timeline, toText);
  const errors = [a, b].filter((p): p is string => typeof p === 'string');
  if (typeof a !== 'string' && typeof b !== 'string' && a.version > b.version) [a, b] = [b, a];
  const ok = typeof a !== 'string' && typeof b !== 'string' ? { from: a, to: b } : null;
  const between = ok ? timeline.slice(ok.from.version, ok.to.version) : [];
  trackAccess({
    actor,
    action: 'timeline.view',
    addressId,
    filter: { compare: ok ? `${ok.from.version}..${ok.to.version}` : `${fromText}..${toText}` },
    rowCount: between.length,
  });
  const current = timeline.at(-1)!;

  return (
    <Main>
      <HistoryBreadcrumb addressId={addressId} line1={current.fieldsAfter?.line1 ?? addressId} here="Compare" />
      <h1>Compare two points</h1>
      <form method="get" className="inline-form" aria-label="Choose two points">
        <label htmlFor="compare-from">From (version or time)</label>
        <input id="compare-from" name="from" defaultValue={fromText} maxLength={40} size={12} />
        <label htmlFor="compare-to">To (version, time or “current”)</label>
        <input id="compare-to" name="to" defaultValue={toText} maxLength={40} size={12} />
        <button type="submit" className="button">
          Compare
        </button>
      </form>
      {errors.map((e) => (
        <p key={e} className="notice notice-error" role="alert">
          {e}
        </p>
      ))}
      {ok ? (
        <>
          <section aria-labelledby="compare-heading" className="compare-section">
            <h2 id="compare-heading">
              Version {ok.from.version} and version {ok.to.version}
              {ok.to.version === current.version ? ' (current)' : ''}
            </h2>
            <CompareTable from={ok.from} to={ok.to} />
          </section>
          <section aria-labelledby="between-heading">
            <h2 id="between-heading">
              {between.length} {between.length === 1 ? 'event' : 'events'} in between
            </h2>
            <EventsBetween entries={between} addressId={addressId} />
          </section>
        </>
      ) : null}
    </Main>
  );
}
