import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { Main } from '@/app/_components/main';
import { usersExist } from '@/lib/auth/users';
import { prisma } from '@/lib/db';
import { SetupForm } from '../_components/auth-forms';

export const metadata: Metadata = { title: 'First run: create the admin account' };
// Whether setup is still open depends on the database, never on the build.
export const dynamic = 'force-dynamic';

export default async function SetupPage() {
  // Open only while no account exists; createFirstAdmin re-checks under a lock on submit.
  if (await usersExist(prisma())) redirect('/sign-in');
  return (
    <Main className="narrow">
      <h1>Welcome to Address Ledger</h1>
      <div className="notice notice-warn" role="status">
        <p>
          <strong>First run:</strong> no account exists yet. The account you create here becomes the administrator;
          everything else stays closed until it exists.
        </p>
      </div>
      <p className="lead">
        As administrator you can then invite operators and auditors and create API tokens for integrations. (On the
        server, <code>npm run admin -- user create …</code> does the same without a browser.)
      </p>
      <SetupForm />
    </Main>
  );
}
