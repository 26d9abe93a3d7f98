'use client';

import { isServer, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { queryKeys } from '@/app/_lib/query-keys';

function makeQueryClient(): QueryClient {
  const client = new QueryClient({
    defaultOptions: {
      queries: {
        // The first paint comes from the server: without a stale time the client would fetch
        // the same search again the moment it hydrates.
        staleTime: 30_000,
        // A search typed a minute ago is not worth a refetch when the tab regains focus; the
        // lag notice polls on its own (app/addresses/_components/lag-notice.tsx).
        refetchOnWindowFocus: false,
      },
    },
  });
  // Versions seen are memory, not fetched data: never collected, never stale.
  client.setQueryDefaults(queryKeys.addresses.seenVersions, {
    gcTime: Number.POSITIVE_INFINITY,
    staleTime: Number.POSITIVE_INFINITY,
  });
  return client;
}

let browserQueryClient: QueryClient | undefined;

/**
 * TanStack Query's recommended client for the App Router: a new one per server render (no cache
 * shared between users or requests), one for the life of the tab in the browser, so a render that
 * suspends before the provider mounts does not throw the cache away.
 */
function queryClient(): QueryClient {
  if (isServer) return makeQueryClient();
  browserQueryClient ??= makeQueryClient();
  return browserQueryClient;
}

/** The one QueryClientProvider, in the root layout. */
export function QueryProvider({ children }: { children: ReactNode }) {
  return <QueryClientProvider client={queryClient()}>{children}</QueryClientProvider>;
}
