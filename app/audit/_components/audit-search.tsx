import Link from 'next/link';
import { EventTypeSelect } from '../../addresses/_components/event-type-select';
import { formatQuery, formatTerm, type Term } from '../_lib/qualifiers';

export function auditHref(terms: readonly Term[], extra: Record<string, string> = {}): string {
  const qs = new URLSearchParams();
  const q = formatQuery(terms);
  if (q) qs.set('q', q);
  for (const [k, v] of Object.entries(extra)) qs.set(k, v);
  const s = qs.toString();
  return s ? `/audit?${s}` : '/audit';
}

/** The search box (qualifiers welcome) and, folded away, one field per filter. */
export function AuditSearch({ q }: { q: string }) {
  return (
    <search>
      <form method="get" action="/audit" className="search-form" aria-label="Search the audit log">
        <div className="search-main">
          <label htmlFor="audit-q" className="visually-hidden">
            Search the audit log
          </label>
          <input
            id="audit-q"
            name="q"
            type="search"
            defaultValue={q}
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
          <div className="search-filters">
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
export function FilterChips({ terms }: { terms: readonly Term[] }) {
  if (terms.length === 0) return null;
  return (
    <div className="audit-chips">
      <ul className="chips" aria-label="Filters in effect">
        {terms.map((term, i) => {
          const text = formatTerm(term);
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: the same term may appear twice; position is its identity
            <li key={`${i}-${text}`}>
              <Link
                prefetch={false}
                className="chip chip-removable"
                href={auditHref(terms.filter((_, j) => j !== i))}
                aria-label={`Remove filter ${text}`}
              >
                {term.key === 'text' ? '' : <span className="chip-key">{term.key}:</span>}
                {term.value} <span aria-hidden="true">×</span>
              </Link>
            </li>
          );
        })}
      </ul>
      <Link prefetch={false} href="/audit">
        Clear all
      </Link>
    </div>
  );
}
