'use client';

import { type AccessPageParams, queryKeys } from '@/app/_lib/query-keys';
import { useUrlPageQuery } from '@/app/_lib/use-url-page-query';
import { SearchLink } from '../../addresses/_components/search-link';
import { type AccessPage, accessApiUrl, accessHref, accessPageParams } from '../_lib/access-page';
import { AccessFilters, AccessTable } from './access-table';

const UNAVAILABLE = 'The access trail cannot be read right now; try again in a moment.';

/**
 * The access trail below its heading, like the audit log's workspace: the server's first page is
 * in the query cache (app/audit/access/page.tsx); a filter or a page turned then only changes the
 * URL and reads `GET /api/audit/access`, the previous rows kept on screen, dimmed, meanwhile.
 */
export function AccessWorkspace({ serverFailure }: { serverFailure: string | null }) {
  const { key, params, navigate, result, failure, busy } = useUrlPageQuery<AccessPageParams, AccessPage>({
    parse: accessPageParams,
    queryKey: queryKeys.audit.access,
    apiUrl: accessApiUrl,
    serverFailure,
    unavailable: UNAVAILABLE,
  });

  return (
    <>
      <AccessFilters key={key} params={params} navigate={navigate} />
      {failure ? (
        <p className="notice notice-error" role="alert">
          {failure}
        </p>
      ) : null}
      {result && !failure ? (
        <section aria-label="Access records" aria-busy={busy ? 'true' : 'false'}>
          <div className={busy ? 'audit-stale' : undefined}>
            {result.records.length === 0 ? (
              <p className="muted">Nothing recorded matches these filters.</p>
            ) : (
              <AccessTable records={result.records} />
            )}
          </div>
          <nav className="pagination" aria-label="Access trail pages">
            {params.before ? (
              <SearchLink href={accessHref({ ...params, before: undefined })} navigate={navigate}>
                Newest
              </SearchLink>
            ) : null}
            {result.nextBefore ? (
              <SearchLink href={accessHref({ ...params, before: result.nextBefore })} navigate={navigate} rel="next">
                Older entries
              </SearchLink>
            ) : null}
          </nav>
        </section>
      ) : null}
    </>
  );
}
