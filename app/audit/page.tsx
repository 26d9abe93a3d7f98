import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { trackAccess } from '@/lib/access-log';
import { pageActor } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { formatZodIssues } from '@/lib/validation/address';
import { AuditList } from './_components/audit-list';
import { AuditSearch, auditHref, FilterChips } from './_components/audit-search';
import { encodeAuditCursor } from './_lib/audit-cursor';
import { loadAuditView } from './_lib/audit-log.server';
import { AuditQueryError, auditQuerySchema, FILTER_PARAMS, parseAuditFilter, parseCursor } from './_lib/audit-query';
import { formatQuery } from './_lib/qualifiers';
import './audit.css';
import { Main } from '@/app/_components/main';

export const metadata: Metadata = { title: 'Audit log' };

interface Props {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

const SEPARATE_PARAMS = [...Object.keys(FILTER_PARAMS), 'from', 'to'];

/**
 * Every event of every address, newest first, straight from the event store (README "Audit
 * log"). The URL always carries the filter as one `q` (the field-by-field form is folded into
 * it by a redirect), so the chips, the export links and a shared link all mean the same thing.
 */
export default async function AuditPage({ searchParams }: Props) {
  const actor = await pageActor('audit:read', '/audit');
  const raw = Object.fromEntries(
    Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]),
  ) as Record<string, string | undefined>;
  const parsed = auditQuerySchema.safeParse(raw);
  let failure: string | null = null;
  let result: Awaited<ReturnType<typeof load>> | null = null;
  if (!parsed.success) {
    failure = formatZodIssues(parsed.error)
      .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
      .join('; ');
  } else {
    try {
      result = await load(parsed.data);
    } catch (error) {
      if (!(error instanceof AuditQueryError)) throw error;
      failure = error.message;
    }
  }
  if (result?.redirectTo) redirect(result.redirectTo);
  const now = new Date();
  if (result?.view) {
    trackAccess({
      actor,
      action: 'audit.page',
      filter: { q: formatQuery(result.terms), page: result.cursor ? 'next' : 'first' },
      rowCount: result.view.rows.length,
    });
  }
  const q = result ? formatQuery(result.terms) : (raw.q ?? '');

  return (
    <Main className="audit-page">
      <header className="page-header">
        <div>
          <h1>Audit log</h1>
          <p className="lead">Every recorded event across all addresses, newest first, exactly as stored.</p>
        </div>
        <div className="header-links">
          <Link prefetch={false} href="/audit/access">
            Access trail
          </Link>
        </div>
      </header>
      <AuditSearch q={q} />
      {failure ? (
        <p className="notice notice-error" role="alert">
          {failure}
        </p>
      ) : null}
      {result?.view ? (
        <section aria-labelledby="audit-results">
          <FilterChips terms={result.terms} />
          <div className="audit-summary-bar">
            <h2 id="audit-results" className="results-summary" aria-live="polite">
              {result.view.total.exact
                ? result.view.total.count.toLocaleString('en')
                : `More than ${result.view.total.count.toLocaleString('en')}`}{' '}
              {result.view.total.count === 1 && result.view.total.exact ? 'event' : 'events'}
            </h2>
            <div className="audit-export">
              <a className="button" href={`/api/audit/export?${exportQuery(q, 'csv')}`} download>
                Download CSV
              </a>
              <a className="button" href={`/api/audit/export?${exportQuery(q, 'ndjson')}`} download>
                Download NDJSON
              </a>
            </div>
          </div>
          {result.view.rows.length === 0 ? (
            <p className="muted">No events match these filters.</p>
          ) : (
            <AuditList rows={result.view.rows} now={now} />
          )}
          <nav className="pagination" aria-label="Audit log pages">
            {result.cursor ? (
              <Link prefetch={false} href={auditHref(result.terms)}>
                Newest events
              </Link>
            ) : null}
            {result.view.next ? (
              <Link
                prefetch={false}
                href={auditHref(result.terms, { cursor: encodeAuditCursor(result.view.next) })}
                rel="next"
              >
                Older events
              </Link>
            ) : (
              <span className="muted">End of the log</span>
            )}
          </nav>
        </section>
      ) : null}
    </Main>
  );
}

function exportQuery(q: string, format: 'csv' | 'ndjson'): string {
  return new URLSearchParams({ format, ...(q ? { q } : {}) }).toString();
}

async function load(params: ReturnType<typeof auditQuerySchema.parse>) {
  const { terms, filter } = parseAuditFilter(params);
  // Field-by-field filters become qualifiers in the URL: one spelling of each filter.
  if (SEPARATE_PARAMS.some((p) => raw(params, p))) {
    return { terms, redirectTo: auditHref(terms), view: null, cursor: null };
  }
  const cursor = parseCursor(params.cursor);
  const view = await loadAuditView(prisma(), filter, { cursor, limit: params.limit });
  return { terms, view, cursor, redirectTo: null };
}

function raw(params: Record<string, unknown>, key: string): boolean {
  const v = params[key];
  return typeof v === 'string' && v !== '';
}
