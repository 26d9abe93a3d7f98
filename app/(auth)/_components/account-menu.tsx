import '../accounts.css';
import Link from 'next/link';
import type { Actor } from '@/domain/messages';
import { SignOutButton } from './auth-forms';

/**
 * Who is signed in, for the site header: name and role, the admin link for admins, and sign-out
 * (a POST, so another site cannot sign anyone out with a link). Showing or hiding the admin link
 * is convenience only; every admin page and action checks the role on the server.
 */
export function AccountMenu({ actor }: { actor: Actor | null }) {
  if (!actor) {
    return (
      <div className="account-menu">
        <Link href="/sign-in">Sign in</Link>
      </div>
    );
  }
  return (
    <div className="account-menu">
      <span className="muted">
        {actor.name} ({actor.role})
      </span>
      {actor.role === 'admin' ? <Link href="/admin">Admin</Link> : null}
      <SignOutButton />
    </div>
  );
}
