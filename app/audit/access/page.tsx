import { dehydrate, HydrationBoundary, QueryClient } from '@tanstack/react-query';
import type { Metadata } from 'next';
import Link from 'next/link';
import { queryKeys } from '@/app/_lib/query-keys';
import { trackAccess } from '@/lib/access-log';
import { pageActor } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { formatZodIssues } from '@/lib/validation/address';
import { AccessWorkspace } from '../_components/access-workspace';
import { accessPageParams } from '../_lib/access-page';
import { accessQuerySchema, readAccessTrail } from '../_lib/access-trail.server';
import { urlParams } from '../_lib/audit-page';
import '../audit.css';
import { Main } from '@/app/_components/main';

export const metadata: Metadata = { title: 'Access trail' };

interface Props {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

/**
 * Who looked at or exported what: every audit page, export and timeline view, from the
 * append-only access log (lib/access-log.ts). Viewing this page is recorded too. The server reads
 * the first page (the page works without JavaScript: the filter form is a plain GET, paging is
 * links) into the query cache; the browser then reads later ones from `GET /api/audit/access`.
 */
export default async function AccessTrailPage({ searchParams }: Props) {
  const actor = await pageActor('audit:read', '/audit/access');
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const client = new QueryClient();
  const parsed = accessQuerySchema.safeParse(raw);
  let failure: string | null = null;
  if (parsed.success) {
    const page = await readAccessTrail(prisma(), parsed.data);
    client.setQueryData(queryKeys.audit.access(accessPageParams(urlParams(raw))), page);
    trackAccess({ actor, action: 'access.page', filter: { ...raw, before: undefined }, rowCount: page.records.length });
  } else {
    failure = formatZodIssues(parsed.error)
      .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
      .join('; ');
  }

  return (
    <Main className="audit-page">
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link prefetch={false} href="/audit">
          Audit log
        </Link>{' '}
        <span aria-hidden="true">›</span> Access trail
      </nav>
      <header className="page-header">
        <div>
          <h1>Access trail</h1>
          <p className="lead">Who viewed or exported what, newest first. The database refuses to edit it.</p>
        </div>
      </header>
      <HydrationBoundary state={dehydrate(client)}>
        <AccessWorkspace serverFailure={failure} />
      </HydrationBoundary>
    </Main>
  );
}
