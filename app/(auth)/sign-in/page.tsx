import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { sessionActor } from '@/lib/auth/request-actor';
import { usersExist } from '@/lib/auth/users';
import { prisma } from '@/lib/db';
import { SignInForm, SignOutButton } from '../_components/auth-forms';
import { afterSignIn } from '../_lib/safe-next';

export const metadata: Metadata = { title: 'Sign in' };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[]>>;
}) {
  // Before the first account exists there is nobody to sign in as: the first visitor sets up.
  if (!(await usersExist(prisma()))) redirect('/setup');
  const params = await searchParams;
  const next = afterSignIn(params.next);
  const actor = await sessionActor();
  return (
    <main className="narrow">
      <h1>Sign in</h1>
      {params['signed-out'] !== undefined && !actor ? (
        <div className="notice notice-ok" role="status">
          <p>You are signed out.</p>
        </div>
      ) : null}
      {actor ? (
        <div className="card">
          <p>
            You are signed in as <strong>{actor.name}</strong> ({actor.role}). <Link href={next}>Continue</Link>
          </p>
          <SignOutButton />
        </div>
      ) : (
        <>
          <p className="lead">Accounts are created by an admin. Ask yours if you do not have one.</p>
          <SignInForm next={next} />
        </>
      )}
    </main>
  );
}
