import type { AccessPageParams } from '@/app/_lib/query-keys';
import type { AccessAction } from '@/lib/access-log';

/*
 * The access trail's page as `GET /api/audit/access` answers it and as the /audit/access page's
 * query cache holds it (the server's first paint and the browser's later pages are one shape),
 * and what the browser needs to build its URLs. No server code: the client workspace imports it.
 */

export const ACCESS_ACTIONS = [
  'audit.page',
  'audit.export',
  'timeline.view',
  'access.page',
] as const satisfies readonly AccessAction[];

export const ACCESS_ACTION_LABELS: Record<AccessAction, string> = {
  'audit.page': 'Audit log page',
  'audit.export': 'Audit export',
  'timeline.view': 'Address timeline',
  'access.page': 'Access trail page',
};

export interface AccessRecord {
  id: string;
  accessedAt: string;
  actor: { id: string; name: string; role: string };
  action: AccessAction;
  addressId: string | null;
  filter: Record<string, unknown>;
  rowCount: number;
}

export interface AccessPage {
  records: AccessRecord[];
  /** Pass back as `before` for the next page; null on the last one. */
  nextBefore: string | null;
}

/** The filters in the page's URL, as they stand there (strings; the API parses them). */
export const ACCESS_PARAMS = ['actor', 'action', 'address', 'from', 'to', 'before'] as const;

export function accessPageParams(search: URLSearchParams): AccessPageParams {
  return Object.fromEntries(ACCESS_PARAMS.map((k) => [k, search.get(k) || undefined])) as AccessPageParams;
}

function queryString(params: AccessPageParams): string {
  const qs = new URLSearchParams();
  for (const k of ACCESS_PARAMS) if (params[k]) qs.set(k, params[k]!);
  const s = qs.toString();
  return s ? `?${s}` : '';
}

export const accessApiUrl = (params: AccessPageParams) => `/api/audit/access${queryString(params)}`;
export const accessHref = (params: AccessPageParams) => `/audit/access${queryString(params)}`;
