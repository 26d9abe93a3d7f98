import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { FormMessage } from '@/app/_components/form-fields';
import { Main } from '@/app/_components/main';
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
    <Main className="narrow">
      <h1>Sign in</h1>
      {params['signed-out'] !== undefined && !actor ? (
        <FormMessage result={{ status: 'ok', message: 'You are signed out.' }} />
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
    </Main>
  );
}
