'use client';

import { useSearchParams } from 'next/navigation';
import { useMemo } from 'react';
import { useHistoryNavigate } from '@/app/_lib/use-history-navigate';
import { rawSearchParams, readSearchParams, resolveSearchQuery } from './search-query';

/**
 * The search page's state is its URL: every screen is a link that can be shared, and Back/Forward
 * restore it. The query is derived from `useSearchParams()` on every render, never kept beside it.
 * The route renders per request (the root layout is force-dynamic), so `useSearchParams` has the
 * real parameters during the server render and needs no Suspense boundary for the first paint.
 * Changes go through the History API (app/_lib/use-history-navigate.ts), not a server render.
 */
export function useSearchUrl() {
  const urlParams = useSearchParams();
  const key = urlParams.toString();
  const raw = useMemo(() => rawSearchParams(new URLSearchParams(key)), [key]);
  const { params, refused } = useMemo(() => readSearchParams(raw), [raw]);
  const query = useMemo(() => resolveSearchQuery(params), [params]);
  const navigate = useHistoryNavigate();
  return { raw, params, refused, query, navigate };
}
