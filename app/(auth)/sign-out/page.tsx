import type { Metadata } from 'next';
import Link from 'next/link';
import { Main } from '@/app/_components/main';
import { sessionActor } from '@/lib/auth/request-actor';
import { SignOutButton } from '../_components/auth-forms';

export const metadata: Metadata = { title: 'Sign out' };

// Signing out is a POST (the button's server action): a link or an image on another site must
// not be able to sign someone out.
export default async function SignOutPage() {
  const actor = await sessionActor();
  return (
    <Main className="narrow">
      <h1>Sign out</h1>
      {actor ? (
        <div className="card">
          <p>
            Signed in as <strong>{actor.name}</strong> ({actor.role}).
          </p>
          <SignOutButton />
        </div>
      ) : (
        <p>
          You are not signed in. <Link href="/sign-in">Sign in</Link>
        </p>
      )}
    </Main>
  );
}
