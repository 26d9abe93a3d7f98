/**
 * What every address server action returns to its form. Plain data only (it crosses the
 * server→client boundary): a conflict or a broken rule is a result the form shows, never a throw.
 */
export type ActionStatus = 'idle' | 'ok' | 'invalid' | 'conflict' | 'duplicate' | 'rejected' | 'forbidden' | 'error';

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
  /** After `conflict`: both sides of the edit, for the conflict screen. */
  conflict?: ConflictInfo;
  /** After `duplicate`: the active address that already has these fields. */
  existing?: { addressId: string; summary: string };
}

export const IDLE: ActionResult = { status: 'idle' };

/** First message for a field, if any. */
export function fieldError(result: ActionResult, name: string): string | undefined {
  return result.errors?.[name]?.[0];
}
