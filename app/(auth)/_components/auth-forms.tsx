'use client';

import { useActionState } from 'react';
import { Field, FormMessage, SubmitButton } from '@/app/_components/form-fields';
import { IDLE } from '@/app/_lib/form-state';
import { setupAction, signInAction, signOutAction } from '../actions';

export function SignInForm({ next }: { next: string }) {
  const [state, action, pending] = useActionState(signInAction, IDLE);
  return (
    <form action={action} className="form" aria-label="Sign in">
      <input type="hidden" name="next" value={next} />
      <FormMessage result={state} />
      <Field
        required
        name="email"
        label="E-mail address"
        type="email"
        autoComplete="username"
        state={state}
        maxLength={254}
      />
      <Field required name="password" label="Password" type="password" autoComplete="current-password" state={state} />
      <SubmitButton pending={pending} tone="primary" label="Sign in" pendingLabel="Signing in…" />
    </form>
  );
}

export function SetupForm() {
  const [state, action, pending] = useActionState(setupAction, IDLE);
  return (
    <form action={action} className="form" aria-label="Create the admin account">
      <FormMessage result={state} />
      <Field required name="name" label="Your name" autoComplete="name" state={state} maxLength={120} />
      <Field
        required
        name="email"
        label="E-mail address"
        type="email"
        autoComplete="username"
        state={state}
        maxLength={254}
      />
      <Field
        name="password"
        label="Password"
        type="password"
        autoComplete="new-password"
        state={state}
        required
        hint="At least 12 characters. A few unrelated words make a good one."
        hideHintOnError
      />
      <Field required name="confirm" label="Password again" type="password" autoComplete="new-password" state={state} />
      <SubmitButton pending={pending} tone="primary" label="Create admin account" pendingLabel="Creating…" />
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
