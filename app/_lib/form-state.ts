/**
 * What every server action (accounts, admin, addresses) returns to its form. Plain data only (it
 * crosses the server→client boundary): a conflict or a broken rule is a result the form shows,
 * never a throw.
 */
export type FormStatus = 'idle' | 'ok' | 'invalid' | 'conflict' | 'duplicate' | 'rejected' | 'forbidden' | 'error';

/** One event saved by someone else between the form's version and the current one. */
export interface ConflictEvent {
  version: number;
  /** "Changed", "Corrected", … */
  what: string;
  actor: string;
  recordedAt: string;
  reason?: string;
  changes: Array<{ field: string; label: string; before: string | null; after: string | null }>;
}

/** One field of the three-way merge (see domain/address/merge.ts), labelled for the screen. */
export interface ConflictField {
  field: string;
  label: string;
  base: string | null;
  theirs: string | null;
  mine: string | null;
  outcome: 'unchanged' | 'theirs' | 'mine' | 'same' | 'conflict';
  merged: string | null;
}

/** What the conflict screen needs to show both sides and re-submit against the new version. */
export interface ConflictInfo {
  baseVersion: number;
  currentVersion: number;
  events: ConflictEvent[];
  /** Empty for commands without fields (archive, restore, revert). */
  fields: ConflictField[];
  /** A fresh idempotency token for the re-submit (a new request, at a new version). */
  token: string;
}

export interface FormState {
  status: FormStatus;
  /** One sentence for the person at the form. */
  message?: string;
  /** Field name → messages, shown next to the field. `_form` holds issues that belong to no field. */
  errors?: Record<string, string[]>;
  /** The submitted values, so a rejected form keeps what was typed (never passwords or tokens). */
  values?: Record<string, string>;
  /** The stream version after a success; the current version after a conflict. */
  version?: number;
  /** After `conflict`: both sides of the edit, for the conflict screen. */
  conflict?: ConflictInfo;
  /** After `duplicate`: the active address that already has these fields. */
  existing?: { addressId: string; summary: string };
  /** A freshly created API token, shown once and never stored in clear. */
  secret?: string;
}

export const IDLE: FormState = { status: 'idle' };

/** First message for a field, if any. */
export function fieldError(state: FormState, name: string): string | undefined {
  return state.errors?.[name]?.[0];
}

/** Boundary messages are lower-case fragments ("postal code is required"); forms show sentences. */
export function sentence(message: string): string {
  const trimmed = message.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** zod issues → `{field: [message]}`; issues without a path go to `_form`. */
export function fieldErrors(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const issue of issues) {
    const key = String(issue.path[0] ?? '_form');
    errors[key] = [...(errors[key] ?? []), sentence(issue.message)];
  }
  return errors;
}
