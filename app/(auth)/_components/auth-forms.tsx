'use client';

import { useActionState } from 'react';
import { EMPTY, type FormState } from '../_lib/form-state';
import { setupAction, signInAction, signOutAction } from '../actions';

export function Notice({ state }: { state: FormState }) {
  if (!state.message) return null;
  return (
    <div className={`notice ${state.ok ? 'notice-ok' : 'notice-error'}`} role={state.ok ? 'status' : 'alert'}>
      <p>{state.message}</p>
    </div>
  );
}

interface InputProps {
  /** The form field name (and the key of its errors). */
  name: string;
  /** The element id; defaults to the name. Must be unique on the page when two forms share names. */
  id?: string;
  label: string;
  type?: string;
  autoComplete?: string;
  state: FormState;
  hint?: string;
  maxLength?: number;
}

export function Input({ name, id = name, label, type = 'text', autoComplete, state, hint, maxLength }: InputProps) {
  const error = state.errors?.[name]?.[0];
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        type={type}
        autoComplete={autoComplete}
        required
        maxLength={maxLength}
        defaultValue={type === 'password' ? undefined : (state.values?.[name] ?? '')}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : hint ? `${id}-hint` : undefined}
      />
      {hint && !error ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function SignInForm({ next }: { next: string }) {
  const [state, action, pending] = useActionState(signInAction, EMPTY);
  return (
    <form action={action} className="form" aria-label="Sign in">
      <input type="hidden" name="next" value={next} />
      <Notice state={state} />
      <Input name="email" label="E-mail address" type="email" autoComplete="username" state={state} maxLength={254} />
      <Input name="password" label="Password" type="password" autoComplete="current-password" state={state} />
      <div className="actions">
        <button type="submit" className="button primary" disabled={pending}>
          {pending ? 'Signing in…' : 'Sign in'}
        </button>
      </div>
    </form>
  );
}

export function SetupForm() {
  const [state, action, pending] = useActionState(setupAction, EMPTY);
  return (
    <form action={action} className="form" aria-label="Create the admin account">
      <Notice state={state} />
      <Input name="name" label="Your name" autoComplete="name" state={state} maxLength={120} />
      <Input name="email" label="E-mail address" type="email" autoComplete="username" state={state} maxLength={254} />
      <Input
        name="password"
        label="Password"
        type="password"
        autoComplete="new-password"
        state={state}
        hint="At least 12 characters. A few unrelated words make a good one."
      />
      <Input name="confirm" label="Password again" type="password" autoComplete="new-password" state={state} />
      <div className="actions">
        <button type="submit" className="button primary" disabled={pending}>
          {pending ? 'Creating…' : 'Create admin account'}
        </button>
      </div>
    </form>
  );
}

export function SignOutButton() {
  return (
    <form action={signOutAction} className="inline-form">
      <button type="submit" className="button">
        Sign out
      </button>
    </form>
  );
}
