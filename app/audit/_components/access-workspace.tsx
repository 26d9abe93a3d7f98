'use client';

import { hashKey, keepPreviousData, useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'next/navigation';
import { useMemo, useState } from 'react';
import { ApiError, getJson } from '@/app/_lib/get-json';
import { queryKeys } from '@/app/_lib/query-keys';
import { useHistoryNavigate } from '@/app/_lib/use-history-navigate';
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
  const search = useSearchParams();
  const key = search.toString();
  const params = useMemo(() => accessPageParams(new URLSearchParams(key)), [key]);
  const navigate = useHistoryNavigate();
  const queryKey = queryKeys.audit.access(params);
  // The server already said what is wrong with the URL it rendered (and recorded the access).
  const [serverKey] = useState(() => hashKey(queryKey));
  const knownBad = serverFailure !== null && hashKey(queryKey) === serverKey;

  const page = useQuery({
    queryKey,
    queryFn: ({ signal }) => getJson<AccessPage>(accessApiUrl(params), signal),
    placeholderData: keepPreviousData,
    enabled: !knownBad,
    retry: (count, error) => count < 1 && !(error instanceof ApiError && error.status < 500),
  });
  const result = knownBad ? undefined : page.data;
  const failure = knownBad
    ? serverFailure
    : page.isError
      ? page.error instanceof ApiError && page.error.status < 500
        ? page.error.message
        : UNAVAILABLE
      : null;
  const busy = page.isFetching && page.isPlaceholderData;

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
