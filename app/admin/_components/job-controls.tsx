'use client';

import { useActionState } from 'react';
import { ConfirmButton, FormMessage } from '@/app/_components/form-fields';
import { type FormState, IDLE } from '@/app/_lib/form-state';
import { rebuildReadModelsAction, verifyLedgerAction } from '../actions';

/** The button that starts a background job of the admin page (rebuild, verification). */
function StartJobForm(props: {
  action: (previous: FormState, formData: FormData) => Promise<FormState>;
  running: boolean;
  label: string;
  runningLabel: string;
  /** Asked first when the job is heavy (a rebuild); a verification only reads, so it just starts. */
  question?: string;
  confirmLabel?: string;
}) {
  const [state, action, pending] = useActionState(props.action, IDLE);
  const label = props.running ? props.runningLabel : props.label;
  return (
    <form action={action} className="form" aria-label={props.label}>
      <FormMessage result={state} />
      <div className="actions">
        {props.question ? (
          <ConfirmButton
            label={label}
            question={props.question}
            confirmLabel={props.confirmLabel ?? props.label}
            pending={pending}
            pendingLabel="Starting…"
            disabled={props.running}
          />
        ) : (
          <button type="submit" className="button primary" disabled={pending || props.running}>
            {pending ? 'Starting…' : label}
          </button>
        )}
      </div>
    </form>
  );
}

export function RebuildForm({ running }: { running: boolean }) {
  return (
    <StartJobForm
      action={rebuildReadModelsAction}
      running={running}
      label="Rebuild read models"
      runningLabel="Rebuild running…"
      question="Rebuild every read model from the events? It runs in the background; the live ones keep serving."
      confirmLabel="Yes, rebuild"
    />
  );
}

export function VerifyForm({ running }: { running: boolean }) {
  return <StartJobForm action={verifyLedgerAction} running={running} label="Verify now" runningLabel="Verifying…" />;
}
