'use client';

import Link from 'next/link';
import type { ComponentProps } from 'react';
import type { HistoryMode } from '@/app/_lib/use-history-navigate';

type Props = Omit<ComponentProps<typeof Link>, 'href' | 'onNavigate' | 'prefetch'> & {
  href: string;
  navigate: (href: string, mode: HistoryMode) => void;
};

/**
 * A link to another state of the search page (a facet, a chip, a page number). A real link, so it
 * works without JavaScript and opens in a new tab with Ctrl/Cmd; a plain click only changes the URL
 * (a new history entry) and the browser's query cache fetches the results: no document
 * navigation, no server render. Never prefetched: a page of facets would be fifty server renders.
 */
export function SearchLink({ href, navigate, ...rest }: Props) {
  return (
    <Link
      {...rest}
      href={href}
      prefetch={false}
      onNavigate={(event) => {
        event.preventDefault();
        navigate(href, 'push');
      }}
    />
  );
}
