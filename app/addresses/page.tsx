import { dehydrate, HydrationBoundary, QueryClient } from '@tanstack/react-query';
import type { Metadata } from 'next';
import Link from 'next/link';
import { Main } from '@/app/_components/main';
import { queryKeys } from '@/app/_lib/query-keys';
import { pageActor } from '@/lib/auth/request-actor';
import { AddressSearch } from './_components/address-search';
import { canWrite, countryOptions } from './_lib/address.server';
import { addressSearch } from './_lib/address-search.server';
import { cleanSearchParams, rawSearchParams, resolveSearchQuery } from './_lib/search-query';

export const metadata: Metadata = { title: 'Addresses' };

interface Props {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

/**
 * Search and browse addresses. Reads the search projection, so results can trail the event store
 * by a few events; the page says so when they do. An address's own page is always exact.
 *
 * The server searches for the first paint (so the page works without JavaScript: the form is a
 * plain GET) and puts the answer in the query cache under the key the browser derives from the
 * same URL; the browser then takes over (app/addresses/_components/address-search.tsx).
 */
export default async function AddressesPage({ searchParams }: Props) {
  const actor = await pageActor('address:read', '/addresses');
  const query = resolveSearchQuery(cleanSearchParams(rawSearchParams(await searchParams)));
  const client = new QueryClient();
  let serverFailure = false;
  try {
    client.setQueryData(queryKeys.addresses.search(query), await addressSearch(query));
  } catch {
    serverFailure = true;
  }
  const writable = canWrite(actor);

  return (
    <Main>
      <header className="page-header">
        <div>
          <h1>Addresses</h1>
          <p className="lead">
            Search by street, town, postal code or owner reference; typos and abbreviations are fine.
          </p>
        </div>
        {writable ? (
          <div className="header-links">
            <Link className="button primary" href="/addresses/new">
              Register an address
            </Link>
          </div>
        ) : null}
      </header>
      <HydrationBoundary state={dehydrate(client)}>
        <AddressSearch canWrite={writable} countryNames={countryNames()} serverFailure={serverFailure} />
      </HydrationBoundary>
    </Main>
  );
}

function countryNames(): Record<string, string> {
  return Object.fromEntries(countryOptions().map((c) => [c.code, c.name]));
}
