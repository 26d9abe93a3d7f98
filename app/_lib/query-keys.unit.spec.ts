import { hashKey, matchQuery, QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { resolveSearchQuery } from '@/app/addresses/_lib/search-query';
import { auditPageParams } from '@/app/audit/_lib/audit-page';
import { queryKeys } from './query-keys';

describe('query keys', () => {
  it('gives two URLs that ask for the same search one key, and different searches different keys', () => {
    const a = queryKeys.addresses.search(resolveSearchQuery({ q: 'main' }));
    const b = queryKeys.addresses.search(resolveSearchQuery({ q: 'main', sort: 'relevance', page: 1, perPage: 20 }));
    expect(hashKey(a)).toBe(hashKey(b));
    const c = queryKeys.addresses.search(resolveSearchQuery({ q: 'main', page: 2 }));
    const d = queryKeys.addresses.search(resolveSearchQuery({ q: 'main', status: 'archived' }));
    expect(new Set([a, c, d].map(hashKey)).size).toBe(3);
  });

  it('reaches every search and every reading of an address by their prefixes, and nothing else', () => {
    const client = new QueryClient();
    const search = client
      .getQueryCache()
      .build(client, { queryKey: queryKeys.addresses.search(resolveSearchQuery({})) });
    const detail = client.getQueryCache().build(client, { queryKey: queryKeys.addresses.detail('a1') });
    const atLeast = client.getQueryCache().build(client, { queryKey: queryKeys.addresses.detailAtLeast('a1', 3) });
    const other = client.getQueryCache().build(client, { queryKey: queryKeys.addresses.detail('a2') });
    const projections = client.getQueryCache().build(client, { queryKey: queryKeys.projections });
    const seen = client.getQueryCache().build(client, { queryKey: queryKeys.addresses.seenVersion('a1') });

    const matches = (queryKey: readonly unknown[]) =>
      [search, detail, atLeast, other, projections, seen].filter((q) => matchQuery({ queryKey }, q));
    expect(matches(queryKeys.addresses.searches)).toEqual([search]);
    expect(matches(queryKeys.addresses.detail('a1'))).toEqual([detail, atLeast]);
    // Invalidating every address query must not drop what the tab remembers about versions.
    expect(matches(queryKeys.addresses.all)).toEqual([search, detail, atLeast, other]);
  });

  it('gives the audit page the server read and the page the browser asks for one key', () => {
    // The server passes the URL's parameters as they stand; the browser reads them from useSearchParams.
    const server = queryKeys.audit.page(auditPageParams(new URLSearchParams('q=actor%3Aada&cursor=')));
    const browser = queryKeys.audit.page({ q: 'actor:ada' });
    expect(hashKey(server)).toBe(hashKey(browser));
    const next = queryKeys.audit.page({ q: 'actor:ada', cursor: 'abc' });
    const other = queryKeys.audit.page({ q: 'actor:bob' });
    expect(new Set([browser, next, other].map(hashKey)).size).toBe(3);
    expect(hashKey(queryKeys.audit.page({}))).toBe(hashKey(queryKeys.audit.page({ q: '', limit: '' })));
  });
});
