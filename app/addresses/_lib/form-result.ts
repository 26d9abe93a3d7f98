/**
 * What every address server action returns to its form. Plain data only (it crosses the
 * server→client boundary): a conflict or a broken rule is a result the form shows, never a throw.
 */
export type ActionStatus = 'idle' | 'ok' | 'invalid' | 'conflict' | 'duplicate' | 'rejected' | 'forbidden' | 'error';

export interface ActionResult {
  status: ActionStatus;
  /** One sentence for the person at the form. */
  message?: string;
  /** Field name → messages, shown next to the field. `_form` holds issues that belong to no field. */
  errors?: Record<string, string[]>;
  /** The submitted values, so a rejected form keeps what was typed. Absent after a success. */
  values?: Record<string, string>;
  /** The stream version after a success; the current version after a conflict. */
  version?: number;
  /** After `duplicate`: the active address that already has these fields. */
  existing?: { addressId: string; summary: string };
}

export const IDLE: ActionResult = { status: 'idle' };

/** First message for a field, if any. */
export function fieldError(result: ActionResult, name: string): string | undefined {
  return result.errors?.[name]?.[0];
}
