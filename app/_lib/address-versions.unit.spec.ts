import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import type { AddressSearchResponse } from '@/app/addresses/_lib/search-response';
import type { PublicAddress, SearchHit } from '@/projections/search/search-index';
import { noteAddressVersion, seenVersion, withReadings } from './address-versions';
import { queryKeys } from './query-keys';

const address = (id: string, version: number, line1: string): PublicAddress =>
  ({
    id,
    version,
    status: 'active',
    line1,
    line2: null,
    city: 'Bath',
    region: 'ME',
    postalCode: '04530',
    country: 'US',
    owner: null,
    archivedReason: null,
    registeredAt: '2026-12-01T10:00:00.000Z',
    updatedAt: `2026-12-01T10:0${version}:00.000Z`,
    lastEventType: version === 1 ? 'AddressRegistered' : 'AddressChanged',
    lastActor: { id: 'u1', name: 'Otto', role: 'operator' },
  }) as PublicAddress;

const hit = (a: PublicAddress): SearchHit => ({ ...a, highlights: { line1: [{ start: 0, length: 2 }] } });

describe('withReadings', () => {
  it('replaces an old hit by its reading and drops highlights that no longer fit', () => {
    const [a, b] = [hit(address('a', 1, '12 Main St')), hit(address('b', 1, '3 Elm St'))];
    const listed = withReadings([a, b], new Map([['a', address('a', 2, '14 Main St')]]));
    expect(listed[0]).toMatchObject({ id: 'a', version: 2, line1: '14 Main St', highlights: {} });
    expect(listed[1]).toBe(b);
  });

  it('keeps the highlights when the shown fields did not change, and marks a reading still on its way', () => {
    const a = hit(address('a', 1, '12 Main St'));
    const archived = { ...address('a', 2, '12 Main St'), status: 'archived' as const };
    expect(withReadings([a], new Map([['a', archived]]))[0]).toMatchObject({
      status: 'archived',
      highlights: a.highlights,
    });
    expect(withReadings([a], new Map([['a', undefined]]))[0]).toMatchObject({ version: 1, refreshing: true });
  });
});

describe('noteAddressVersion', () => {
  it('remembers the newest version and refetches only the searches holding an older one', async () => {
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const body = (hits: SearchHit[]) => ({ hits }) as AddressSearchResponse;
    const old = queryKeys.addresses.search({ q: 'main', sort: 'relevance', page: 1, perPage: 20 });
    const current = queryKeys.addresses.search({ q: 'elm', sort: 'relevance', page: 1, perPage: 20 });
    client.setQueryData(old, body([hit(address('a', 1, '12 Main St'))]));
    client.setQueryData(current, body([hit(address('a', 2, '12 Main St'))]));

    noteAddressVersion(client, 'a', 2);
    expect(seenVersion(client, 'a')).toBe(2);
    expect(client.getQueryState(old)?.isInvalidated).toBe(true);
    expect(client.getQueryState(current)?.isInvalidated).toBe(false);

    // An older version seen later (a stale page in another tab's history) changes nothing.
    noteAddressVersion(client, 'a', 1);
    expect(seenVersion(client, 'a')).toBe(2);
  });
});
