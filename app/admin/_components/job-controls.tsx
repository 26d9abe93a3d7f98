'use client';

import { useRouter } from 'next/navigation';
import { useActionState, useEffect } from 'react';
import { Notice } from '@/app/(auth)/_components/auth-forms';
import { EMPTY, type FormState } from '@/app/(auth)/_lib/form-state';
import { rebuildReadModelsAction, verifyLedgerAction } from '../actions';

/** The button that starts a background job of the admin page (rebuild, verification). */
function StartJobForm(props: {
  action: (previous: FormState, formData: FormData) => Promise<FormState>;
  running: boolean;
  label: string;
  runningLabel: string;
}) {
  const [state, action, pending] = useActionState(props.action, EMPTY);
  return (
    <form action={action} className="form" aria-label={props.label}>
      <Notice state={state} />
      <div className="actions">
        <button type="submit" className="button primary" disabled={pending || props.running}>
          {pending ? 'Starting…' : props.running ? props.runningLabel : props.label}
        </button>
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
    />
  );
}

export function VerifyForm({ running }: { running: boolean }) {
  return <StartJobForm action={verifyLedgerAction} running={running} label="Verify now" runningLabel="Verifying…" />;
}

/** Re-renders the page every 2 s while a job runs, so its progress moves without a reload. */
export function RefreshWhileRunning({ running }: { running: boolean }) {
  const router = useRouter();
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => router.refresh(), 2_000);
    return () => clearInterval(timer);
  }, [running, router]);
  return null;
}
