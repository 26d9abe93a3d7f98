import type { Metadata } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { actorCan } from '@/lib/auth/permissions';
import { sessionActor } from '@/lib/auth/request-actor';
import { MAIN_ID } from './_components/main';
import { QueryProvider } from './_components/query-provider';
import { AccountMenu } from './(auth)/_components/account-menu';
import './globals.css';

// Every page depends on who is signed in and on live data: never prerender one at build time
// (the build has no database, and a cached page could show one user's data to another).
export const dynamic = 'force-dynamic';

export const metadata: Metadata = {
  title: { default: 'Address Ledger', template: '%s — Address Ledger' },
  description: 'An address register with a complete, immutable history of every change.',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Links are convenience only: every page and action checks the role again on the server.
  const actor = await sessionActor();
  const canWrite = actorCan(actor, 'address:write');
  const canAudit = actorCan(actor, 'audit:read');
  return (
    <html lang="en">
      <body>
        {/* The first Tab stop of every page: past the header to the page's own content. */}
        <a href={`#${MAIN_ID}`} className="skip-link">
          Skip to main content
        </a>
        <header className="site-header">
          <Link href="/" className="brand">
            Address Ledger
          </Link>
          <nav aria-label="Main">
            <Link href="/addresses">Search</Link>
            {canWrite ? <Link href="/addresses/new">Register</Link> : null}
            {canWrite ? <Link href="/import">Import</Link> : null}
            {canAudit ? <Link href="/audit">Audit log</Link> : null}
          </nav>
          <AccountMenu actor={actor} />
        </header>
        <QueryProvider>{children}</QueryProvider>
        <footer className="site-footer">
          Sample address data © <a href="https://www.openstreetmap.org/copyright">OpenStreetMap contributors</a> (ODbL
          1.0).
        </footer>
      </body>
    </html>
  );
}
