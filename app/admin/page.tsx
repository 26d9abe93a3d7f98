import type { Metadata } from 'next';
import '@/app/(auth)/accounts.css';
import { Main } from '@/app/_components/main';
import { pageActor } from '@/lib/auth/request-actor';
import { listApiTokens } from '@/lib/auth/tokens';
import { listUsers } from '@/lib/auth/users';
import { prisma } from '@/lib/db';
import {
  CreateTokenForm,
  CreateUserForm,
  TokenActions,
  TokenActionsProvider,
  UserActions,
} from './_components/admin-forms';
import { IntegritySection } from './_components/integrity';
import { ReadModelsSection } from './_components/read-models';

export const metadata: Metadata = { title: 'Administration' };

const when = (d: Date | null) =>
  d ? <time dateTime={d.toISOString()}>{d.toISOString().replace('T', ' ').slice(0, 16)} UTC</time> : '—';

export default async function AdminPage() {
  const actor = await pageActor('admin', '/admin');
  const db = prisma();
  const [users, tokens] = await Promise.all([listUsers(db), listApiTokens(db)]);
  return (
    <Main className="admin">
      <div className="page-header">
        <div>
          <h1>Administration</h1>
          <p className="lead">
            Signed in as {actor.name} (admin). Role changes, disabling and revoking take effect on the next request.
          </p>
        </div>
      </div>

      <section className="card" aria-labelledby="users-heading">
        <h2 id="users-heading">Accounts</h2>
        <table className="admin-table stack-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">E-mail</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} data-email={u.email}>
                <td data-label="Name">{u.name}</td>
                <td data-label="E-mail">{u.email}</td>
                <td data-label="Role">{u.role}</td>
                <td data-label="Status">
                  {u.disabledAt ? <span className="badge badge-archived">disabled</span> : 'active'}
                </td>
                <td data-label="Actions">
                  <UserActions
                    userId={u.id}
                    name={u.name}
                    role={u.role}
                    disabled={Boolean(u.disabledAt)}
                    self={u.id === actor.id}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <h3>New account</h3>
        <CreateUserForm />
      </section>

      <section className="card" aria-labelledby="tokens-heading">
        <h2 id="tokens-heading">API tokens</h2>
        <p className="hint">
          For integrations: <code>Authorization: Bearer &lt;token&gt;</code>. A token acts with its role; events it
          writes name it as the actor. Rotating issues a new secret and revokes the old one at once.
        </p>
        <TokenActionsProvider>
          {tokens.length === 0 ? (
            <p className="empty">No active tokens.</p>
          ) : (
            <table className="admin-table stack-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Starts with</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {tokens.map((t) => (
                  <tr key={t.id}>
                    <td data-label="Name">{t.name}</td>
                    <td data-label="Role">{t.role}</td>
                    <td data-label="Starts with">
                      <code>{t.prefix}…</code>
                    </td>
                    <td data-label="Created">
                      {when(t.createdAt)}
                      <br />
                      <span className="muted">by {t.createdByName ?? 'command line'}</span>
                    </td>
                    <td data-label="Last used">{when(t.lastUsedAt)}</td>
                    <td data-label="Actions">
                      <TokenActions tokenId={t.id} name={t.name} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </TokenActionsProvider>
        <h3>New token</h3>
        <CreateTokenForm />
      </section>

      <ReadModelsSection />

      <IntegritySection />
    </Main>
  );
}
