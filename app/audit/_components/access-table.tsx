'use client';

import Link from 'next/link';
import type { FormEvent } from 'react';
import type { AccessPageParams } from '@/app/_lib/query-keys';
import type { Navigate } from '@/app/_lib/use-history-navigate';
import { formatTimestamp } from '../../addresses/_lib/labels';
import {
  ACCESS_ACTION_LABELS,
  ACCESS_ACTIONS,
  ACCESS_PARAMS,
  type AccessRecord,
  accessHref,
} from '../_lib/access-page';

/** What was asked for, in one line: the audit query, the format, the versions shown. */
function describeFilter(filter: Record<string, unknown>): string {
  return Object.entries(filter)
    .filter(([, v]) => v !== '' && v !== undefined && v !== null)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}

/**
 * A plain GET form (it works without JavaScript); with it, a submit only changes the URL and the
 * workspace's query reads the page. Remount it (a `key`) when the URL changes, so Back shows the
 * values of the state it returns to.
 */
export function AccessFilters({ params, navigate }: { params: AccessPageParams; navigate: Navigate }) {
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next: AccessPageParams = {};
    for (const k of ACCESS_PARAMS) {
      const v = form.get(k);
      if (typeof v === 'string' && v.trim()) next[k] = v.trim();
    }
    navigate(accessHref(next), 'push');
  };
  return (
    <search>
      <form
        method="get"
        action="/audit/access"
        className="search-form"
        aria-label="Filter the access trail"
        onSubmit={submit}
      >
        <div className="search-filters">
          <div className="filter">
            <label htmlFor="access-actor">Who (name or id)</label>
            <input id="access-actor" name="actor" defaultValue={params.actor ?? ''} maxLength={200} />
          </div>
          <div className="filter">
            <label htmlFor="access-action">What</label>
            <select id="access-action" name="action" defaultValue={params.action ?? ''}>
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
            <input id="access-address" name="address" defaultValue={params.address ?? ''} maxLength={64} />
          </div>
          <div className="filter">
            <label htmlFor="access-from">From (UTC)</label>
            <input id="access-from" name="from" type="date" defaultValue={params.from ?? ''} />
          </div>
          <div className="filter">
            <label htmlFor="access-to">To (UTC)</label>
            <input id="access-to" name="to" type="date" defaultValue={params.to ?? ''} />
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
