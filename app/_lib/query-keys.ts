import type { SearchQuery } from '@/projections/search/search-index';

/*
 * Every TanStack Query key of the app, in one place, so an invalidation names the same key the
 * queries use. Keys are hierarchical: invalidating `addresses.all` reaches every search and every
 * address, `addresses.detail(id)` that address at any `minVersion`.
 */

const ADDRESSES = ['addresses'] as const;

/**
 * A search's key: the resolved query (defaults filled in) with its fields in one fixed order and
 * no absent ones, so `?q=main` and `?q=main&sort=relevance&page=1` share one cache entry.
 */
function searchKeyPart(query: SearchQuery) {
  return {
    q: query.q ?? null,
    country: query.country ?? null,
    region: query.region ?? null,
    city: query.city ?? null,
    postalCode: query.postalCode ?? null,
    status: query.status ?? null,
    sort: query.sort,
    page: query.page,
    perPage: query.perPage,
  };
}

export const queryKeys = {
  addresses: {
    all: ADDRESSES,
    searches: [...ADDRESSES, 'search'] as const,
    search: (query: SearchQuery) => [...ADDRESSES, 'search', searchKeyPart(query)] as const,
    detail: (id: string) => [...ADDRESSES, 'detail', id] as const,
    /** The address as the read model has it once it reached `minVersion` (GET /api/addresses/{id}?minVersion=). */
    detailAtLeast: (id: string, minVersion: number) => [...ADDRESSES, 'detail', id, { minVersion }] as const,
    /** The newest version of each address this tab has seen on its own page (kept for the tab's life). */
    seenVersions: ['address-versions'] as const,
    seenVersion: (id: string) => ['address-versions', id] as const,
  },
  projections: ['projections'] as const,
  audit: {
    all: ['audit'] as const,
    /**
     * One page of the audit log as `GET /api/audit` answers it, keyed by the URL's own `q`, `cursor`
     * and `limit` (absent ones as null) so the server's first paint and the browser agree on it.
     */
    page: (page: AuditPageParams) =>
      ['audit', 'page', { q: page.q || null, cursor: page.cursor || null, limit: page.limit || null }] as const,
    /** One page of the access trail as `GET /api/audit/access` answers it, keyed by its URL's filters. */
    access: (page: AccessPageParams) =>
      [
        'audit',
        'access',
        {
          actor: page.actor || null,
          action: page.action || null,
          address: page.address || null,
          from: page.from || null,
          to: page.to || null,
          before: page.before || null,
        },
      ] as const,
  },
};

/** The parameters of one audit log page, as they stand in its URL. */
export interface AuditPageParams {
  q?: string;
  cursor?: string;
  limit?: string;
}

/** The filters of one access trail page, as they stand in its URL. */
export interface AccessPageParams {
  actor?: string;
  action?: string;
  address?: string;
  from?: string;
  to?: string;
  before?: string;
}
