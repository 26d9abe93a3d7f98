import Link from 'next/link';
import { formatTimestamp } from '../../addresses/_lib/labels';
import { ACCESS_ACTION_LABELS, ACCESS_ACTIONS, type AccessQuery, type AccessRecord } from '../_lib/access-trail.server';

/** What was asked for, in one line: the audit query, the format, the versions shown. */
function describeFilter(filter: Record<string, unknown>): string {
  return Object.entries(filter)
    .filter(([, v]) => v !== '' && v !== undefined && v !== null)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}

export function AccessFilters({ query }: { query: AccessQuery }) {
  const day = (d: Date | undefined) => (d ? d.toISOString().slice(0, 10) : '');
  return (
    <search>
      <form method="get" action="/audit/access" className="search-form" aria-label="Filter the access trail">
        <div className="search-filters">
          <div className="filter">
            <label htmlFor="access-actor">Who (name or id)</label>
            <input id="access-actor" name="actor" defaultValue={query.actor ?? ''} maxLength={200} />
          </div>
          <div className="filter">
            <label htmlFor="access-action">What</label>
            <select id="access-action" name="action" defaultValue={query.action ?? ''}>
              <option value="">Anything</option>
              {ACCESS_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {ACCESS_ACTION_LABELS[a]}
                </option>
              ))}
            </select>
          </div>
          <div className="filter">
            <label htmlFor="access-address">Address id</label>
            <input id="access-address" name="address" defaultValue={query.address ?? ''} maxLength={64} />
          </div>
          <div className="filter">
            <label htmlFor="access-from">From (UTC)</label>
            <input id="access-from" name="from" type="date" defaultValue={day(query.from)} />
          </div>
          <div className="filter">
            <label htmlFor="access-to">To (UTC)</label>
            <input id="access-to" name="to" type="date" defaultValue={day(query.to)} />
          </div>
          <div className="filter filter-submit">
            <button type="submit" className="button primary">
              Filter
            </button>
          </div>
        </div>
      </form>
    </search>
  );
}

export function AccessTable({ records }: { records: readonly AccessRecord[] }) {
  return (
    <div className="audit-table-wrap">
      <table className="audit-table stack-table">
        <caption className="visually-hidden">Access trail, newest first</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">What</th>
            <th scope="col">Filter or address</th>
            <th scope="col">Rows</th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <tr key={r.id}>
              <td data-label="When">
                <time dateTime={r.accessedAt}>{formatTimestamp(r.accessedAt)}</time>
              </td>
              <td data-label="Who">
                {r.actor.name} <span className="muted">({r.actor.role})</span>
              </td>
              <td data-label="What">{ACCESS_ACTION_LABELS[r.action] ?? r.action}</td>
              <td data-label="Filter or address">
                {r.addressId ? (
                  <Link prefetch={false} href={`/addresses/${r.addressId}/history`}>
                    Address {r.addressId.slice(0, 8)}
                  </Link>
                ) : null}{' '}
                {describeFilter(r.filter)}
              </td>
              <td data-label="Rows">{r.rowCount.toLocaleString('en')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
