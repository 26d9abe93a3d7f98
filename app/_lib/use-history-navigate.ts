'use client';

import { useCallback } from 'react';

export type HistoryMode = 'push' | 'replace';
export type Navigate = (href: string, mode: HistoryMode) => void;

/**
 * Go to another state of a page whose state is its URL (the search page, the audit log) through
 * the History API, which Next.js folds into its router (useSearchParams updates; docs: "Linking and
 * Navigating", Native History API), rather than router.push: that would render the page again on
 * the server for every change, while the browser's query cache already asks the API for exactly
 * what is needed. Back/Forward restore each state because it is all in the URL.
 */
export function useHistoryNavigate(): Navigate {
  return useCallback((href: string, mode: HistoryMode) => {
    if (href === window.location.pathname + window.location.search) return;
    if (mode === 'push') window.history.pushState(null, '', href);
    else window.history.replaceState(null, '', href);
  }, []);
}
