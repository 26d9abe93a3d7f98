'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import type { KeyboardEvent } from 'react';
import type { ListedHit } from '@/app/_lib/address-versions';
import type { HistoryMode } from '@/app/_lib/use-history-navigate';
import { formatTimestamp } from '../_lib/labels';
import { type SearchParams, searchHref } from '../_lib/search-query';
import { Marked } from './marked';
import { SearchLink } from './search-link';
import { StatusBadge } from './status-badge';

/** The result links, in order: ↓/↑ move between them (and back up to the search box). */
export const HIT_LINK = 'a[data-hit-link]';

/**
 * ↓ and ↑ move the focus through the result links; ↑ on the first goes back to the search box.
 * Enter opens the focused one (it is a link), Escape is handled by the search box's owner.
 */
export function moveThroughHits(event: KeyboardEvent<HTMLElement>, searchBox: HTMLInputElement | null): void {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const links = [...event.currentTarget.querySelectorAll<HTMLAnchorElement>(HIT_LINK)];
  const at = links.indexOf(document.activeElement as HTMLAnchorElement);
  if (at === -1) return;
  event.preventDefault();
  const next = event.key === 'ArrowDown' ? links[Math.min(at + 1, links.length - 1)] : links[at - 1];
  (next ?? searchBox)?.focus();
}

export function HitList({ hits, countryNames }: { hits: ListedHit[]; countryNames: Record<string, string> }) {
  const router = useRouter();
  return (
    <ol className="hits">
      {hits.map((hit) => {
        const href = `/addresses/${hit.id}`;
        // The address page renders on the server: fetch it while the pointer or focus is on its link.
        const prefetch = () => router.prefetch(href);
        if (hit.refreshing) {
          // Older than this tab has seen: its fields are not shown until the newer reading is in.
          return (
            <li key={hit.id} className="hit" aria-busy="true">
              <div className="hit-main">
                <Link href={href} className="hit-title" data-hit-link="" prefetch={false}>
                  Loading the latest version…
                </Link>
              </div>
            </li>
          );
        }
        return (
          <li key={hit.id} className="hit">
            <div className="hit-main">
              <Link
                href={href}
                className="hit-title"
                data-hit-link=""
                prefetch={false}
                onMouseEnter={prefetch}
                onFocus={prefetch}
              >
                <Marked value={hit.line1} ranges={hit.highlights.line1} />
              </Link>
              {hit.line2 ? (
                <span className="hit-line2">
                  <Marked value={hit.line2} ranges={hit.highlights.line2} />
                </span>
              ) : null}
              <span className="hit-place">
                <Marked value={hit.city} ranges={hit.highlights.city} />
                {hit.region ? (
                  <>
                    , <Marked value={hit.region} ranges={hit.highlights.region} />
                  </>
                ) : null}{' '}
                <Marked value={hit.postalCode} ranges={hit.highlights.postalCode} /> ·{' '}
                {countryNames[hit.country] ?? hit.country}
              </span>
              {hit.owner ? (
                <span className="hit-owner">
                  Owner: <Marked value={hit.owner} ranges={hit.highlights.owner} />
                </span>
              ) : null}
            </div>
            <div className="hit-side">
              <StatusBadge status={hit.status} />
              {hit.upToDate === false ? (
                <span
                  className="badge badge-archived"
                  title="An event of this address could not be applied to search yet"
                >
                  not up to date
                </span>
              ) : null}
              <span className="muted">
                {hit.refreshing
                  ? 'loading the latest version…'
                  : `v${hit.version} · updated ${formatTimestamp(hit.updatedAt)}`}
              </span>
            </div>
          </li>
        );
      })}
    </ol>
  );
}

interface PaginationProps {
  params: SearchParams;
  page: number;
  pages: number;
  navigate: (href: string, mode: HistoryMode) => void;
}

export function Pagination({ params, page, pages, navigate }: PaginationProps) {
  const numbers = new Set([1, page - 2, page - 1, page, page + 1, page + 2, pages].filter((n) => n >= 1 && n <= pages));
  const sorted = [...numbers].sort((a, b) => a - b);
  const to = (n: number) => searchHref(params, { page: n });
  return (
    <nav className="pagination" aria-label="Pages">
      {page > 1 ? (
        <SearchLink href={to(page - 1)} navigate={navigate} rel="prev">
          ‹ Previous
        </SearchLink>
      ) : (
        <span className="disabled">‹ Previous</span>
      )}
      {sorted.map((n, i) => (
        <span key={n}>
          {i > 0 && n - sorted[i - 1]! > 1 ? <span className="gap">…</span> : null}
          {n === page ? (
            <span className="current" aria-current="page">
              {n}
            </span>
          ) : (
            <SearchLink href={to(n)} navigate={navigate}>
              {n}
            </SearchLink>
          )}
        </span>
      ))}
      {page < pages ? (
        <SearchLink href={to(page + 1)} navigate={navigate} rel="next">
          Next ›
        </SearchLink>
      ) : (
        <span className="disabled">Next ›</span>
      )}
    </nav>
  );
}
