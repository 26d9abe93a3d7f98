/**
 * What the account and admin server actions return to their forms: plain data (it crosses the
 * server→client boundary). Field errors sit next to the field; `message` is one sentence.
 */
export interface FormState {
  ok?: boolean;
  message?: string;
  errors?: Record<string, string[]>;
  /** Non-secret input to keep in the form after a rejected submit (never passwords). */
  values?: Record<string, string>;
  /** A freshly created API token, shown once and never stored in clear. */
  secret?: string;
}

export const EMPTY: FormState = {};

/** zod issues → `{field: [message]}`; issues without a path go to `_form`. */
export function fieldErrors(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const issue of issues) {
    const key = String(issue.path[0] ?? '_form');
    errors[key] = [...(errors[key] ?? []), sentence(issue.message)];
  }
  return errors;
}

export function sentence(message: string): string {
  const t = message.trim();
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
