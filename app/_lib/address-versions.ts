'use client';

import { type QueryClient, useQueries, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import type { AddressSearchResponse } from '@/app/addresses/_lib/search-response';
import type { PublicAddress, SearchHit } from '@/projections/search/search-index';
import { getJson } from './get-json';
import { queryKeys } from './query-keys';

/*
 * Read-your-writes for lists. The search index trails the event store; an address's own page never
 * does. When this tab sees an address at version N (its page after a command, or any visit), every
 * cached search holding an older version of it is refetched, and any hit still older than N is
 * replaced by `GET /api/addresses/{id}?minVersion=N`, which waits for the read model (or folds the
 * events): so after an edit no list in this tab shows the value from before it.
 */

export function seenVersion(client: QueryClient, id: string): number {
  return client.getQueryData<number>(queryKeys.addresses.seenVersion(id)) ?? 0;
}

/** Remembers that `id` is at `version` at least; drops every cached reading of it that is older. */
export function noteAddressVersion(client: QueryClient, id: string, version: number): void {
  if (version <= seenVersion(client, id)) return;
  client.setQueryData(queryKeys.addresses.seenVersion(id), version);
  void client.invalidateQueries({ queryKey: queryKeys.addresses.detail(id) });
  void client.invalidateQueries({
    queryKey: queryKeys.addresses.searches,
    predicate: (query) =>
      (query.state.data as AddressSearchResponse | undefined)?.hits.some((h) => h.id === id && h.version < version) ??
      false,
  });
}

/** For an address's page: the version it shows, noted once it renders (again after each command). */
export function useNoteAddressVersion(id: string, version: number): void {
  const client = useQueryClient();
  useEffect(() => noteAddressVersion(client, id, version), [client, id, version]);
}

/** Fields a hit shows; when one differs in the fresh reading, its highlights no longer fit. */
const SHOWN = ['line1', 'line2', 'city', 'region', 'postalCode', 'owner'] as const;

/** `upToDate: false`: a projection parked the address, so the index may hold an older version (projections/README.md). */
export type ListedHit = SearchHit & { refreshing?: boolean; upToDate?: boolean | null };

/** The hits with every one older than this tab has seen replaced by a reading at that version. */
export function useFreshHits(hits: SearchHit[]): ListedHit[] {
  const client = useQueryClient();
  const stale = hits.flatMap((hit) => {
    const seen = seenVersion(client, hit.id);
    return seen > hit.version ? [{ hit, seen }] : [];
  });
  const readings = useQueries({
    queries: stale.map(({ hit, seen }) => ({
      queryKey: queryKeys.addresses.detailAtLeast(hit.id, seen),
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        getJson<PublicAddress>(`/api/addresses/${encodeURIComponent(hit.id)}?minVersion=${seen}`, signal),
      staleTime: Number.POSITIVE_INFINITY,
    })),
  });
  if (stale.length === 0) return hits;
  return withReadings(hits, new Map(stale.map(({ hit }, i) => [hit.id, readings[i]?.data])));
}

/**
 * The hits with the readings in place: a hit being read again is marked `refreshing` until its
 * reading arrives; a reading replaces the hit's fields, and its highlights when a shown field changed.
 */
export function withReadings(hits: SearchHit[], readings: Map<string, PublicAddress | undefined>): ListedHit[] {
  return hits.map((hit) => {
    if (!readings.has(hit.id)) return hit;
    const reading = readings.get(hit.id);
    if (!reading) return { ...hit, refreshing: true };
    const same = SHOWN.every((field) => reading[field] === hit[field]);
    return { ...hit, ...reading, highlights: same ? hit.highlights : {} };
  });
}
