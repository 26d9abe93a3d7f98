'use client';

import { useSearchParams } from 'next/navigation';
import { useCallback, useMemo } from 'react';
import { cleanSearchParams, rawSearchParams, resolveSearchQuery } from './search-query';

export type HistoryMode = 'push' | 'replace';

/**
 * The search page's state is its URL: every screen is a link that can be shared, and Back/Forward
 * restore it. The query is derived from `useSearchParams()` on every render, never kept beside it.
 * The route renders per request (the root layout is force-dynamic), so `useSearchParams` has the
 * real parameters during the server render and needs no Suspense boundary for the first paint.
 *
 * Changes go through the History API, which Next.js folds into its router (useSearchParams
 * updates; docs: "Linking and Navigating", Native History API), rather than router.push: that
 * would render the page again on the server for every keystroke, while the browser's query
 * cache already asks the API for exactly what is needed.
 */
export function useSearchUrl() {
  const urlParams = useSearchParams();
  const key = urlParams.toString();
  const raw = useMemo(() => rawSearchParams(new URLSearchParams(key)), [key]);
  const params = useMemo(() => cleanSearchParams(raw), [raw]);
  const query = useMemo(() => resolveSearchQuery(params), [params]);
  const navigate = useCallback((href: string, mode: HistoryMode) => {
    if (href === window.location.pathname + window.location.search) return;
    if (mode === 'push') window.history.pushState(null, '', href);
    else window.history.replaceState(null, '', href);
  }, []);
  return { raw, params, query, navigate };
}
