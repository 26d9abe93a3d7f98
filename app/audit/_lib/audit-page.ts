import type { AuditPageParams } from '@/app/_lib/query-keys';
import type { AuditTotal } from './audit-log.server';
import type { AuditRow } from './audit-rows';
import { formatQuery, type Term } from './qualifiers';

/**
 * One page of the audit log as `GET /api/audit` answers it and as the /audit page's query cache
 * holds it: the server's first paint and the browser's later pages are the same shape, so the
 * page renders both with one component (app/audit/_components/audit-workspace.tsx).
 */
export interface AuditPageResponse {
  /** The filter in effect, as one canonical `q`. */
  query: string;
  terms: Term[];
  events: AuditRow[];
  total: AuditTotal;
  /** Pass back as `cursor` for the next page; null on the last one. */
  next: string | null;
}

/** The page's own parameters (a first-class filter folds into `q`, see app/audit/page.tsx). */
export function auditPageParams(search: URLSearchParams): AuditPageParams {
  const pick = (key: string) => search.get(key) || undefined;
  return { q: pick('q'), cursor: pick('cursor'), limit: pick('limit') };
}

function queryString(entries: Record<string, string | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(entries)) if (v) qs.set(k, v);
  const s = qs.toString();
  return s ? `?${s}` : '';
}

export function auditApiUrl(params: AuditPageParams): string {
  return `/api/audit${queryString({ q: params.q, cursor: params.cursor, limit: params.limit })}`;
}

export function auditHref(terms: readonly Term[], extra: Record<string, string> = {}): string {
  return `/audit${queryString({ q: formatQuery(terms), ...extra })}`;
}

/** A page's search parameters (first values, as the page reads them) back as the URL's own. */
export function urlParams(raw: Record<string, string | undefined>): URLSearchParams {
  return new URLSearchParams(Object.entries(raw).filter((e): e is [string, string] => e[1] !== undefined));
}
