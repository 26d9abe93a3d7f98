'use client';

import { useActionState } from 'react';
import { Field, FormMessage } from '@/app/_components/form-fields';
import { IDLE } from '@/app/_lib/form-state';
import { decideParkedAction } from '../actions';

/** Retry (after a fix) or skip (with a reason) the event that parked one address. */
export function ParkedActions({ addressId, label }: { addressId: string; label: string }) {
  const [state, action, pending] = useActionState(decideParkedAction, IDLE);
  return (
    <form action={action} className="form" aria-label={`Retry or skip ${label}`}>
      <FormMessage result={state} />
      <input type="hidden" name="addressId" value={addressId} />
      <Field
        name="reason"
        id={`reason-${addressId}`}
        label="Reason"
        state={state}
        hint="Required to skip: why this event may be left out of the read models."
        maxLength={500}
      />
      <div className="actions">
        <button type="submit" name="action" value="retry" className="button" disabled={pending}>
          {pending ? 'Sending…' : 'Retry'}
        </button>
        <button type="submit" name="action" value="skip" className="button danger" disabled={pending}>
          {pending ? 'Sending…' : 'Skip event'}
        </button>
      </div>
    </form>
  );
}
