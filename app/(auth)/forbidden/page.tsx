import type { Metadata } from 'next';
import Link from 'next/link';
import { Main } from '@/app/_components/main';
import { sessionActor } from '@/lib/auth/request-actor';

export const metadata: Metadata = { title: 'Not allowed' };

export default async function ForbiddenPage() {
  const actor = await sessionActor();
  return (
    <Main className="narrow">
      <h1>Not allowed</h1>
      <p>
        {actor ? (
          <>
            Your role (<strong>{actor.role}</strong>) does not allow that page. An admin can change your role.
          </>
        ) : (
          <>
            You are not signed in. <Link href="/sign-in">Sign in</Link>
          </>
        )}
      </p>
      <p>
        <Link href="/">Back to the start page</Link>
      </p>
    </Main>
  );
}
