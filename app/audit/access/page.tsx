import type { Metadata } from 'next';
import Link from 'next/link';
import { trackAccess } from '@/lib/access-log';
import { pageActor } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { formatZodIssues } from '@/lib/validation/address';
import { AccessFilters, AccessTable } from '../_components/access-table';
import { type AccessQuery, accessQuerySchema, readAccessTrail } from '../_lib/access-trail.server';
import '../audit.css';
import { Main } from '@/app/_components/main';

export const metadata: Metadata = { title: 'Access trail' };

interface Props {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

/**
 * Who looked at or exported what: every audit page, export and timeline view, from the
 * append-only access log (lib/access-log.ts). Viewing this page is recorded too.
 */
export default async function AccessTrailPage({ searchParams }: Props) {
  const actor = await pageActor('audit:read', '/audit/access');
  const raw = Object.fromEntries(Object.entries(await searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const parsed = accessQuerySchema.safeParse(raw);
  const query: AccessQuery = parsed.success ? parsed.data : { from: undefined, to: undefined };
  const page = parsed.success ? await readAccessTrail(prisma(), query) : null;
  if (page) {
    trackAccess({
      actor,
      action: 'access.page',
      filter: { ...raw, before: undefined },
      rowCount: page.records.length,
    });
  }
  const nextHref = page?.nextBefore
    ? `/audit/access?${new URLSearchParams({ ...(raw as Record<string, string>), before: page.nextBefore })}`
    : null;

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
      <AccessFilters query={query} />
      {!parsed.success ? (
        <p className="notice notice-error" role="alert">
          {formatZodIssues(parsed.error)
            .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
            .join('; ')}
        </p>
      ) : null}
      {page ? (
        page.records.length === 0 ? (
          <p className="muted">Nothing recorded matches these filters.</p>
        ) : (
          <AccessTable records={page.records} />
        )
      ) : null}
      <nav className="pagination" aria-label="Access trail pages">
        {query.before ? (
          <Link prefetch={false} href="/audit/access">
            Newest
          </Link>
        ) : null}
        {nextHref ? (
          <Link prefetch={false} href={nextHref} rel="next">
            Older entries
          </Link>
        ) : null}
      </nav>
    </Main>
  );
}
