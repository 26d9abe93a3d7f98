'use client';

import { createContext, type ReactNode, useActionState, useContext } from 'react';
import { ConfirmButton, Field, FormMessage, SubmitButton } from '@/app/_components/form-fields';
import { type FormState, IDLE } from '@/app/_lib/form-state';
import {
  changeRoleAction,
  createTokenAction,
  createUserAction,
  revokeTokenAction,
  rotateTokenAction,
  setUserEnabledAction,
} from '../actions';

const ROLES = ['operator', 'auditor', 'admin'] as const;

function RoleSelect({ id, defaultValue, state }: { id: string; defaultValue?: string; state?: FormState }) {
  const error = state?.errors?.role?.[0];
  return (
    <select
      id={id}
      name="role"
      defaultValue={state?.values?.role || defaultValue || 'operator'}
      aria-invalid={error ? true : undefined}
    >
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}

/** The token appears once, here, in the response to the action that made it. */
function SecretOnce({ secret }: { secret?: string }) {
  if (!secret) return null;
  return (
    <div className="notice notice-warn" role="status">
      <p>
        <strong>Copy this token now.</strong> It is shown only once; only its hash is stored.
      </p>
      <p>
        <code className="secret" data-testid="new-token">
          {secret}
        </code>
      </p>
      <p className="hint">
        Send it as <code>Authorization: Bearer &lt;token&gt;</code>.
      </p>
    </div>
  );
}

export function CreateUserForm() {
  const [state, action, pending] = useActionState(createUserAction, IDLE);
  return (
    <form action={action} className="form" aria-label="Create an account">
      <FormMessage result={state} />
      <div className="field-row">
        <Field required name="name" id="user-name" label="Name" autoComplete="off" state={state} maxLength={120} />
        <Field
          required
          name="email"
          id="user-email"
          label="E-mail address"
          type="email"
          autoComplete="off"
          state={state}
          maxLength={254}
        />
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="new-user-role">Role</label>
          <RoleSelect id="new-user-role" state={state} />
        </div>
        <Field
          required
          name="password"
          id="user-password"
          label="Initial password"
          type="password"
          autoComplete="new-password"
          state={state}
          hint="At least 12 characters."
          hideHintOnError
        />
      </div>
      <SubmitButton pending={pending} tone="primary" label="Create account" pendingLabel="Creating…" />
    </form>
  );
}

export function UserActions({
  userId,
  name,
  role,
  disabled,
  self,
}: {
  userId: string;
  name: string;
  role: string;
  disabled: boolean;
  self: boolean;
}) {
  const [roleState, roleAction, rolePending] = useActionState(changeRoleAction, IDLE);
  const [enabledState, enabledAction, enabledPending] = useActionState(setUserEnabledAction, IDLE);
  if (self) return <span className="muted">(you)</span>;
  return (
    <div className="row-actions">
      <form action={roleAction} className="inline-form" aria-label={`Role of ${name}`}>
        <input type="hidden" name="userId" value={userId} />
        <label className="visually-hidden" htmlFor={`role-${userId}`}>
          Role of {name}
        </label>
        <RoleSelect id={`role-${userId}`} defaultValue={role} />
        <button type="submit" className="button" disabled={rolePending}>
          Change role
        </button>
      </form>
      <form action={enabledAction} className="inline-form" aria-label={`Access of ${name}`}>
        <input type="hidden" name="userId" value={userId} />
        <input type="hidden" name="enabled" value={disabled ? 'true' : 'false'} />
        {disabled ? (
          <button type="submit" className="button" disabled={enabledPending}>
            Enable {name}
          </button>
        ) : (
          <ConfirmButton
            label={`Disable ${name}`}
            question={`Disable ${name}? They are signed out at once.`}
            confirmLabel="Yes, disable"
            pending={enabledPending}
            pendingLabel="Disabling…"
          />
        )}
      </form>
      <FormMessage result={roleState} />
      <FormMessage result={enabledState} />
    </div>
  );
}

export function CreateTokenForm() {
  const [state, action, pending] = useActionState(createTokenAction, IDLE);
  return (
    <form action={action} className="form" aria-label="Create an API token">
      <FormMessage result={state} />
      <SecretOnce secret={state.secret} />
      <div className="field-row">
        <Field
          required
          name="name"
          id="token-name"
          label="Token name"
          autoComplete="off"
          state={state}
          maxLength={80}
          hint="What uses it, e.g. importer."
          hideHintOnError
        />
        <div className="field">
          <label htmlFor="new-token-role">Role</label>
          <RoleSelect id="new-token-role" state={state} />
        </div>
      </div>
      <SubmitButton pending={pending} tone="primary" label="Create token" pendingLabel="Creating…" />
    </form>
  );
}

type FormAction = (formData: FormData) => void;
const TokenActionsContext = createContext<{ rotate: FormAction; revoke: FormAction; pending: boolean } | null>(null);

/**
 * Holds the rotate and revoke outcomes above the token table: both take the token's row away
 * (the list shows active tokens only), so a message or a new secret kept in the row would vanish
 * with it.
 */
export function TokenActionsProvider({ children }: { children: ReactNode }) {
  const [rotateState, rotate, rotating] = useActionState(rotateTokenAction, IDLE);
  const [revokeState, revoke, revoking] = useActionState(revokeTokenAction, IDLE);
  return (
    <TokenActionsContext.Provider value={{ rotate, revoke, pending: rotating || revoking }}>
      <FormMessage result={rotateState} />
      <SecretOnce secret={rotateState.secret} />
      <FormMessage result={revokeState} />
      {children}
    </TokenActionsContext.Provider>
  );
}

export function TokenActions({ tokenId, name }: { tokenId: string; name: string }) {
  const actions = useContext(TokenActionsContext);
  if (!actions) throw new Error('TokenActions must be inside TokenActionsProvider');
  return (
    <div className="row-actions">
      <form action={actions.rotate} className="inline-form">
        <input type="hidden" name="tokenId" value={tokenId} />
        <button type="submit" className="button" disabled={actions.pending} aria-label={`Rotate ${name}`}>
          Rotate
        </button>
      </form>
      <form action={actions.revoke} className="inline-form">
        <input type="hidden" name="tokenId" value={tokenId} />
        <ConfirmButton
          label="Revoke"
          ariaLabel={`Revoke ${name}`}
          question={`Revoke ${name}? Whatever uses it is refused at once.`}
          confirmLabel="Yes, revoke"
          pending={actions.pending}
          pendingLabel="Revoking…"
        />
      </form>
    </div>
  );
}
