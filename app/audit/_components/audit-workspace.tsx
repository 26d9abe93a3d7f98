'use client';

import { type AuditPageParams, queryKeys } from '@/app/_lib/query-keys';
import { useUrlPageQuery } from '@/app/_lib/use-url-page-query';
import { SearchLink } from '../../addresses/_components/search-link';
import { type AuditPageResponse, auditApiUrl, auditHref, auditPageParams } from '../_lib/audit-page';
import { AuditList } from './audit-list';
import { AuditSearch, FilterChips } from './audit-search';

const UNAVAILABLE = 'The audit log cannot be read right now; try again in a moment.';

/**
 * The audit log below its heading. The server read the first page into the query cache
 * (HydrationBoundary in app/audit/page.tsx), so this paints it at once; from then on a search,
 * a chip removed or a page turned only changes the URL (a new history entry) and the page is a
 * query of `GET /api/audit`, with the previous rows kept on screen, dimmed, while the next arrive.
 */
export function AuditWorkspace({ serverFailure }: { serverFailure: string | null }) {
  const { params, navigate, result, failure, busy, updatedAt } = useUrlPageQuery<AuditPageParams, AuditPageResponse>({
    parse: auditPageParams,
    queryKey: queryKeys.audit.page,
    apiUrl: auditApiUrl,
    serverFailure,
    unavailable: UNAVAILABLE,
  });
  const total = result?.total;

  return (
    <>
      <AuditSearch q={params.q ?? ''} navigate={navigate} />
      {failure ? (
        <p className="notice notice-error" role="alert">
          {failure}
        </p>
      ) : null}
      {result && total && !failure ? (
        <section aria-labelledby="audit-results" aria-busy={busy ? 'true' : 'false'}>
          <FilterChips terms={result.terms} navigate={navigate} />
          <div className="audit-summary-bar">
            <h2 id="audit-results" className="results-summary" aria-live="polite">
              {total.exact ? total.count.toLocaleString('en') : `More than ${total.count.toLocaleString('en')}`}{' '}
              {total.count === 1 && total.exact ? 'event' : 'events'}
            </h2>
            <div className="audit-export">
              <a className="button" href={`/api/audit/export?${exportQuery(result.query, 'csv')}`} download>
                Download CSV
              </a>
              <a className="button" href={`/api/audit/export?${exportQuery(result.query, 'ndjson')}`} download>
                Download NDJSON
              </a>
            </div>
          </div>
          <div className={busy ? 'audit-stale' : undefined}>
            {result.events.length === 0 ? (
              <p className="muted">No events match these filters.</p>
            ) : (
              // "Now" is when this page was read, so the server's and the browser's render agree.
              <AuditList rows={result.events} now={new Date(updatedAt)} />
            )}
          </div>
          <nav className="pagination" aria-label="Audit log pages">
            {params.cursor ? (
              <SearchLink href={auditHref(result.terms)} navigate={navigate}>
                Newest events
              </SearchLink>
            ) : null}
            {result.next ? (
              <SearchLink href={auditHref(result.terms, { cursor: result.next })} navigate={navigate} rel="next">
                Older events
              </SearchLink>
            ) : (
              <span className="muted">End of the log</span>
            )}
          </nav>
        </section>
      ) : null}
    </>
  );
}

function exportQuery(q: string, format: 'csv' | 'ndjson'): string {
  return new URLSearchParams({ format, ...(q ? { q } : {}) }).toString();
}
