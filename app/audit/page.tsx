import { dehydrate, HydrationBoundary, QueryClient } from '@tanstack/react-query';
import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { Main } from '@/app/_components/main';
import { queryKeys } from '@/app/_lib/query-keys';
import { trackAccess } from '@/lib/access-log';
import { pageActor } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { formatZodIssues } from '@/lib/validation/address';
import { AuditWorkspace } from './_components/audit-workspace';
import { auditPageResponse, loadAuditView } from './_lib/audit-log.server';
import { auditHref, auditPageParams, urlParams } from './_lib/audit-page';
import { AuditQueryError, auditQuerySchema, FILTER_PARAMS, parseAuditFilter, parseCursor } from './_lib/audit-query';
import './audit.css';

export const metadata: Metadata = { title: 'Audit log' };

interface Props {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

const SEPARATE_PARAMS = [...Object.keys(FILTER_PARAMS), 'from', 'to'];

/**
 * Every event of every address, newest first, straight from the event store (README "Audit
 * log"). The URL always carries the filter as one `q` (the field-by-field form is folded into
 * it by a redirect), so the chips, the export links and a shared link all mean the same thing.
 *
 * The server reads the first page (so the page works without JavaScript: the form is a plain
 * GET and the chips and paging are links) and puts it in the query cache under the key the
 * browser derives from the same URL; the browser then takes over and reads later pages from
 * `GET /api/audit` (app/audit/_components/audit-workspace.tsx).
 */
export default async function AuditPage({ searchParams }: Props) {
  const actor = await pageActor('audit:read', '/audit');
  const raw = Object.fromEntries(
    Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]),
  ) as Record<string, string | undefined>;
  const client = new QueryClient();
  let failure: string | null = null;
  const parsed = auditQuerySchema.safeParse(raw);
  if (!parsed.success) {
    failure = formatZodIssues(parsed.error)
      .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
      .join('; ');
  } else {
    try {
      const { terms, filter } = parseAuditFilter(parsed.data);
      // Field-by-field filters become qualifiers in the URL: one spelling of each filter.
      if (SEPARATE_PARAMS.some((p) => isSet(parsed.data, p))) redirect(auditHref(terms));
      const cursor = parseCursor(parsed.data.cursor);
      const view = await loadAuditView(prisma(), filter, { cursor, limit: parsed.data.limit });
      const page = auditPageResponse(view, terms);
      client.setQueryData(queryKeys.audit.page(auditPageParams(urlParams(raw))), page);
      trackAccess({
        actor,
        action: 'audit.page',
        filter: { q: page.query, page: cursor ? 'next' : 'first' },
        rowCount: view.rows.length,
      });
    } catch (error) {
      if (!(error instanceof AuditQueryError)) throw error;
      failure = error.message;
    }
  }

  return (
    <Main className="audit-page">
      <header className="page-header">
        <div>
          <h1>Audit log</h1>
          <p className="lead">Every recorded event across all addresses, newest first, exactly as stored.</p>
        </div>
        <div className="header-links">
          <Link prefetch={false} href="/audit/access">
            Access trail
          </Link>
        </div>
      </header>
      <HydrationBoundary state={dehydrate(client)}>
        <AuditWorkspace serverFailure={failure} />
      </HydrationBoundary>
    </Main>
  );
}

function isSet(params: Record<string, unknown>, key: string): boolean {
  const v = params[key];
  return typeof v === 'string' && v !== '';
}
