'use client';

import { type FormEvent, useRef, useState } from 'react';
import type { Navigate } from '@/app/_lib/use-history-navigate';
import { EventTypeSelect } from '../../addresses/_components/event-type-select';
import { SearchLink } from '../../addresses/_components/search-link';
import { auditHref } from '../_lib/audit-page';
import { auditFilterParams, termsOf } from '../_lib/audit-query';
import { formatTerm, type Term } from '../_lib/qualifiers';

/**
 * The search box (qualifiers welcome) and, folded away, one field per filter. A plain GET form,
 * so it works without JavaScript (the server folds the separate fields into `q`); with it, the
 * browser folds them itself and only the URL changes (a new history entry).
 */
export function AuditSearch({ q, navigate }: { q: string; navigate: Navigate }) {
  const [draft, setDraft] = useState(q);
  // The box follows the URL (Back/Forward, a chip removed); React's "adjust state on a prop change".
  const [shown, setShown] = useState(q);
  if (shown !== q) {
    setShown(q);
    setDraft(q);
  }
  const fieldsRef = useRef<HTMLDivElement>(null);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    const entries = [...new FormData(event.currentTarget)].filter(
      (e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '',
    );
    const params = auditFilterParams.safeParse(Object.fromEntries(entries));
    let terms: Term[];
    try {
      if (!params.success) return; // the browser submits: the server names what is wrong
      terms = termsOf(params.data);
    } catch {
      return; // likewise for a qualifier that cannot be read
    }
    event.preventDefault();
    for (const field of fieldsRef.current?.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select') ??
      []) {
      field.value = '';
    }
    navigate(auditHref(terms), 'push');
  };

  return (
    <search>
      <form method="get" action="/audit" className="search-form" aria-label="Search the audit log" onSubmit={submit}>
        <div className="search-main">
          <label htmlFor="audit-q" className="visually-hidden">
            Search the audit log
          </label>
          <input
            id="audit-q"
            name="q"
            type="search"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder="actor:ada type:AddressCorrected created:>=2026-11-01 city:Portland"
            maxLength={2000}
            autoComplete="off"
            spellCheck={false}
            aria-describedby="audit-q-hint"
          />
          <button type="submit" className="button primary">
            Search
          </button>
        </div>
        <p id="audit-q-hint" className="hint">
          Qualifiers: <code>actor:</code> <code>type:</code> <code>source:</code> (ui, api, import){' '}
          <code>created:</code> (<code>&gt;=2026-11-01</code>, <code>2026-11-01..2026-11-30</code>){' '}
          <code>address:</code> <code>correlation:</code> <code>reason:</code> <code>city:</code>. Other words search
          the reason; quote values with spaces.
        </p>
        <details className="audit-more">
          <summary>Add a filter field by field</summary>
          <div className="search-filters" ref={fieldsRef}>
            <Field id="actor" label="Actor (name or id)" />
            <div className="filter">
              <label htmlFor="audit-type">Event type</label>
              <EventTypeSelect id="audit-type" />
            </div>
            <div className="filter">
              <label htmlFor="audit-source">Source</label>
              <select id="audit-source" name="source" defaultValue="">
                <option value="">Any</option>
                <option value="ui">ui</option>
                <option value="api">api</option>
                <option value="import">import</option>
              </select>
            </div>
            <Field id="from" label="Recorded from (UTC)" type="date" />
            <Field id="to" label="Recorded to (UTC)" type="date" />
            <Field id="address" label="Address id" />
            <Field id="correlation" label="Correlation id" />
            <Field id="reason" label="Reason contains" />
            <Field id="city" label="City / town" />
          </div>
        </details>
      </form>
    </search>
  );
}

function Field({ id, label, type = 'text' }: { id: string; label: string; type?: string }) {
  return (
    <div className="filter">
      <label htmlFor={`audit-${id}`}>{label}</label>
      <input id={`audit-${id}`} name={id} type={type} maxLength={200} autoComplete="off" />
    </div>
  );
}

/** One removable chip per term in effect; removing one is a link to the query without it. */
export function FilterChips({ terms, navigate }: { terms: readonly Term[]; navigate: Navigate }) {
  if (terms.length === 0) return null;
  return (
    <div className="audit-chips">
      <ul className="chips" aria-label="Filters in effect">
        {terms.map((term, i) => {
          const text = formatTerm(term);
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: the same term may appear twice; position is its identity
            <li key={`${i}-${text}`}>
              <SearchLink
                className="chip chip-removable"
                href={auditHref(terms.filter((_, j) => j !== i))}
                navigate={navigate}
                aria-label={`Remove filter ${text}`}
              >
                {term.key === 'text' ? '' : <span className="chip-key">{term.key}:</span>}
                {term.value} <span aria-hidden="true">×</span>
              </SearchLink>
            </li>
          );
        })}
      </ul>
      <SearchLink href="/audit" navigate={navigate}>
        Clear all
      </SearchLink>
    </div>
  );
}
