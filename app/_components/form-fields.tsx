'use client';

import { type ReactNode, useEffect, useRef, useState } from 'react';
import type { FormState } from '@/app/_lib/form-state';

export interface FieldProps {
  /** The form field name (and the key of its errors and kept values). */
  name: string;
  /** The element id; defaults to the name. Must be unique on the page when two forms share names. */
  id?: string;
  label: string;
  type?: 'text' | 'email' | 'password';
  /** The form's action state; `error` and `defaultValue` are taken from it unless given. */
  state?: FormState;
  defaultValue?: string;
  error?: string;
  hint?: ReactNode;
  /** Hide the hint while the error shows, so the error alone describes the field. */
  hideHintOnError?: boolean;
  required?: boolean;
  /** Marks the label "(optional)". */
  optional?: boolean;
  autoComplete?: string;
  maxLength?: number;
  /** A two-row textarea instead of an input. */
  multiline?: boolean;
  inputMode?: 'text' | 'numeric';
}

/** A labelled input (or textarea) with its hint and error wired up for screen readers. */
export function Field(props: FieldProps) {
  const { name, id = name, label, type = 'text', state, hint, required, optional, maxLength } = props;
  const error = props.error ?? state?.errors?.[name]?.[0];
  const showHint = Boolean(hint) && !(error && props.hideHintOnError);
  const hintId = showHint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name,
    // Passwords are never put back into the form.
    defaultValue: type === 'password' ? undefined : (props.defaultValue ?? state?.values?.[name] ?? ''),
    required,
    maxLength,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
  } as const;
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>
        {label}
        {optional ? <span className="optional"> (optional)</span> : null}
      </label>
      {props.multiline ? (
        <textarea {...common} rows={2} />
      ) : (
        <input {...common} type={type} autoComplete={props.autoComplete} inputMode={props.inputMode} />
      )}
      {showHint ? (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

interface SubmitButtonProps {
  pending: boolean;
  label: string;
  /** Shown while the action runs, e.g. "Saving…". */
  pendingLabel: string;
  tone?: 'primary' | 'danger';
  /** Not yet possible (e.g. a choice is missing); the form says why next to it. */
  disabled?: boolean;
}

/** A form's submit button in its actions row, disabled and relabelled while the action runs. */
export function SubmitButton({ pending, label, pendingLabel, tone, disabled }: SubmitButtonProps) {
  return (
    <div className="actions">
      <button type="submit" className={tone ? `button ${tone}` : 'button'} disabled={pending || disabled}>
        {pending ? pendingLabel : label}
      </button>
    </div>
  );
}

interface ConfirmButtonProps {
  /** The first button's text, e.g. "Archive address". */
  label: string;
  /** Its accessible name when the text alone is ambiguous in a list (e.g. "Revoke importer"). */
  ariaLabel?: string;
  /** Asked before anything is sent, e.g. "Archive this address?". */
  question: string;
  /** The button that sends the form, e.g. "Yes, archive". */
  confirmLabel: string;
  pending: boolean;
  pendingLabel: string;
  disabled?: boolean;
}

/**
 * A submit that asks first: the first click (or Enter) only shows the question, with the button
 * that really submits (focused, so the keyboard can go on) and one to cancel. Prevents the
 * one-click archive / revoke / disable / rebuild that could not be taken back.
 */
export function ConfirmButton(props: ConfirmButtonProps) {
  const [asking, setAsking] = useState(false);
  // Back to the first button once the action has run.
  useEffect(() => {
    if (!props.pending) setAsking(false);
  }, [props.pending]);
  if (!asking) {
    return (
      <button
        type="button"
        className="button danger"
        aria-label={props.ariaLabel}
        disabled={props.pending || props.disabled}
        onClick={() => setAsking(true)}
      >
        {props.pending ? props.pendingLabel : props.label}
      </button>
    );
  }
  return (
    // biome-ignore lint/a11y/useSemanticElements: a fieldset would break the inline layout of the row
    <span className="confirm" role="group" aria-label={props.question}>
      <span className="confirm-question">{props.question}</span>
      {/* biome-ignore lint/a11y/noAutofocus: the question replaces the button that had focus */}
      <button type="submit" className="button danger" autoFocus>
        {props.confirmLabel}
      </button>
      <button type="button" className="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/**
 * The form-level outcome: success, a duplicate (with a link to it) or a rule that was broken. A
 * success is shown only while the address is still at the version it produced: once another
 * form on the page has saved, its message replaces this one.
 *
 * Each new outcome takes the focus: the first invalid field of the form it sits in, else this
 * message. Without that, focus stayed on the page body after a submit (the button that had it was
 * disabled while the action ran, or replaced), so keyboard and screen-reader users had to hunt for
 * what happened. Also used outside forms for an outcome a redirect brought (e.g. "registered").
 */
export function FormMessage({ result, currentVersion }: { result: FormState; currentVersion?: number }) {
  const formErrors = result.errors?._form ?? [];
  const superseded = result.status === 'ok' && currentVersion !== undefined && result.version !== currentVersion;
  const shown = !(result.status === 'idle' || superseded || (!result.message && formErrors.length === 0));
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (result.status === 'idle') return;
    const message = ref.current;
    const invalid = message?.closest('form')?.querySelector<HTMLElement>('[aria-invalid="true"]');
    if (invalid) invalid.focus();
    else if (shown) message?.focus();
  }, [result, shown]);
  if (!shown) return <div ref={ref} aria-live="polite" />;
  const tone =
    result.status === 'ok'
      ? 'notice-ok'
      : result.status === 'conflict' || result.status === 'duplicate'
        ? 'notice-warn'
        : 'notice-error';
  return (
    <div ref={ref} tabIndex={-1} className={`notice ${tone}`} role={result.status === 'ok' ? 'status' : 'alert'}>
      {result.message ? <p>{result.message}</p> : null}
      {formErrors.map((m) => (
        <p key={m}>{m}</p>
      ))}
      {result.existing ? (
        <p>
          <a href={`/addresses/${result.existing.addressId}`}>Open the existing address: {result.existing.summary}</a>
        </p>
      ) : null}
    </div>
  );
}
