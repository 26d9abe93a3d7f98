'use client';

import { useRouter } from 'next/navigation';
import { useActionState, useEffect } from 'react';
import { ConfirmButton, FormMessage } from '@/app/_components/form-fields';
import { IDLE } from '@/app/_lib/form-state';
import { rebuildReadModelsAction } from '../actions';

export function RebuildForm({ running }: { running: boolean }) {
  const [state, action, pending] = useActionState(rebuildReadModelsAction, IDLE);
  return (
    <form action={action} className="form" aria-label="Rebuild read models">
      <FormMessage result={state} />
      <div className="actions">
        <ConfirmButton
          label={running ? 'Rebuild running…' : 'Rebuild read models'}
          question="Rebuild every read model from the events? It runs in the background; the live ones keep serving."
          confirmLabel="Yes, rebuild"
          pending={pending}
          pendingLabel="Starting…"
          disabled={running}
        />
      </div>
    </form>
  );
}

/** Re-renders the page every 2 s while a rebuild runs, so its progress moves without a reload. */
export function RefreshWhileRunning({ running }: { running: boolean }) {
  const router = useRouter();
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => router.refresh(), 2_000);
    return () => clearInterval(timer);
  }, [running, router]);
  return null;
}
