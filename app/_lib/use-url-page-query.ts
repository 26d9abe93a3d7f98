'use client';

import { hashKey, keepPreviousData, type QueryKey, useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'next/navigation';
import { useMemo, useState } from 'react';
import { ApiError, getJson } from './get-json';
import { useHistoryNavigate } from './use-history-navigate';

export interface UrlPageQueryOptions<P> {
  /** The page's state from its URL (a module-level function: it is a hook dependency). */
  parse: (search: URLSearchParams) => P;
  queryKey: (params: P) => QueryKey;
  /** The API URL answering for `params`. */
  apiUrl: (params: P) => string;
  /** What the server said is wrong with the URL it rendered, or null. */
  serverFailure: string | null;
  /** Said when the API fails for a reason that is not the request's. */
  unavailable: string;
}

/**
 * A page whose state is its URL, read page by page from its API (the audit log, the access trail):
 * the server's first page is already in the query cache (a HydrationBoundary), a filter or a page
 * turned only changes the URL (`navigate`), and the previous rows stay on screen (`busy`) while
 * the next arrive. A URL the server refused is not asked again: that would only say the same twice
 * (and record a second access); a refused request is not retried, a server failure once.
 */
/** R: the API's answer (`getJson<R>`). */
export function useUrlPageQuery<P, R>({ parse, queryKey, apiUrl, serverFailure, unavailable }: UrlPageQueryOptions<P>) {
  const search = useSearchParams();
  const key = search.toString();
  const params = useMemo(() => parse(new URLSearchParams(key)), [parse, key]);
  const navigate = useHistoryNavigate();
  const thisKey = queryKey(params);
  const [serverKey] = useState(() => hashKey(thisKey));
  const knownBad = serverFailure !== null && hashKey(thisKey) === serverKey;

  const page = useQuery({
    queryKey: thisKey,
    queryFn: ({ signal }) => getJson<R>(apiUrl(params), signal),
    placeholderData: keepPreviousData,
    enabled: !knownBad,
    retry: (count, error) => count < 1 && !(error instanceof ApiError && error.status < 500),
  });
  const failure = knownBad
    ? serverFailure
    : page.isError
      ? page.error instanceof ApiError && page.error.status < 500
        ? page.error.message
        : unavailable
      : null;
  return {
    /** The URL's query string: a key for components that must start over when it changes. */
    key,
    params,
    navigate,
    result: knownBad ? undefined : page.data,
    failure,
    busy: page.isFetching && page.isPlaceholderData,
    /** When the shown page was read. */
    updatedAt: page.dataUpdatedAt,
  };
}
