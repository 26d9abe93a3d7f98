'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { getJson } from '@/app/_lib/get-json';
import { queryKeys } from '@/app/_lib/query-keys';
import type { SearchLag } from '@/projections/read-side';
import type { ProjectorStatus } from '@/projections/status';
import { lagMessage, searchIsBehind } from '../_lib/lag-message';

/** How often the notice asks again while the index is behind. */
const POLL_MS = 1_500;

async function searchProjectionLag(signal: AbortSignal): Promise<SearchLag | null> {
  const status = await getJson<ProjectorStatus>('/api/projections', signal);
  const p = status.projections.find((s) => s.name === 'address_search');
  return p ? { events: p.lagEvents, seconds: p.lagSeconds, failing: p.failing } : null;
}

/**
 * "Search may be behind", kept live: while the search answer said the index is behind, the
 * projector status is polled and the notice follows it, disappearing once the index has caught
 * up; at that moment the cached searches are refetched, since they were answered from the
 * index before it caught up.
 */
export function LagNotice({ lag, lagAt }: { lag: SearchLag | null; lagAt: number }) {
  const client = useQueryClient();
  // The newer of the two readings counts: a search answered after the last poll, or the reverse.
  const newer = (data: SearchLag | null | undefined, at: number) => (data !== undefined && at > lagAt ? data : lag);
  const status = useQuery({
    queryKey: queryKeys.projections,
    queryFn: ({ signal }) => searchProjectionLag(signal),
    enabled: searchIsBehind(lag),
    refetchInterval: (query) => (searchIsBehind(newer(query.state.data, query.state.dataUpdatedAt)) ? POLL_MS : false),
    staleTime: 0,
  });
  const current = newer(status.data, status.dataUpdatedAt);
  const behind = searchIsBehind(current);
  const wasBehind = useRef(behind);
  useEffect(() => {
    if (wasBehind.current && !behind) void client.invalidateQueries({ queryKey: queryKeys.addresses.searches });
    wasBehind.current = behind;
  }, [behind, client]);
  const message = lagMessage(current);
  return (
    <div className="lag-slot" role="status">
      {message ? <p className="notice notice-warn lag-notice">{message}</p> : null}
    </div>
  );
}
