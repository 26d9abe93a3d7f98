'use client';

import type { ReactNode } from 'react';
import type { ActionResult } from '../_lib/form-result';

export interface CountryOption {
  code: string;
  name: string;
}

interface TextFieldProps {
  id: string;
  name: string;
  label: string;
  defaultValue?: string;
  error?: string;
  hint?: ReactNode;
  required?: boolean;
  optional?: boolean;
  autoComplete?: string;
  maxLength?: number;
  multiline?: boolean;
  inputMode?: 'text' | 'numeric';
}

/** A labelled input with its hint and error wired up for screen readers. */
export function TextField(props: TextFieldProps) {
  const { id, name, label, defaultValue, error, hint, required, optional, autoComplete, maxLength, multiline } = props;
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name,
    defaultValue: defaultValue ?? '',
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
      {multiline ? (
        <textarea {...common} rows={2} />
      ) : (
        <input {...common} type="text" autoComplete={autoComplete} inputMode={props.inputMode} />
      )}
      {hint ? (
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

interface AddressInputsProps {
  idPrefix: string;
  defaults: Record<string, string | undefined>;
  result: ActionResult;
  countries: CountryOption[];
  /** `new` for registration (an empty optional field is simply not set), `edit` otherwise. */
  mode?: 'new' | 'edit';
}

function initialValue(result: ActionResult, defaults: Record<string, string | undefined>, name: string): string {
  return result.values?.[name] ?? defaults[name] ?? '';
}

/** The seven address fields, pre-filled with the submitted values after a rejected submit. */
export function AddressInputs({ idPrefix, defaults, result, countries, mode = 'edit' }: AddressInputsProps) {
  const clear = mode === 'edit' ? ' Leave empty to clear.' : '';
  const err = (name: string) => result.errors?.[name]?.[0];
  const id = (name: string) => `${idPrefix}-${name}`;
  const countryError = err('country');
  return (
    <div className="address-inputs">
      <TextField
        id={id('line1')}
        name="line1"
        label="Street address"
        defaultValue={initialValue(result, defaults, 'line1')}
        error={err('line1')}
        required
        autoComplete="address-line1"
        maxLength={200}
      />
      <TextField
        id={id('line2')}
        name="line2"
        label="Address line 2"
        optional
        defaultValue={initialValue(result, defaults, 'line2')}
        error={err('line2')}
        hint={`Apartment, suite, building.${clear}`}
        autoComplete="address-line2"
        maxLength={200}
      />
      <div className="field-row">
        <TextField
          id={id('city')}
          name="city"
          label="City / town"
          defaultValue={initialValue(result, defaults, 'city')}
          error={err('city')}
          required
          autoComplete="address-level2"
          maxLength={120}
        />
        <TextField
          id={id('region')}
          name="region"
          label="Region / state"
          optional
          defaultValue={initialValue(result, defaults, 'region')}
          error={err('region')}
          autoComplete="address-level1"
          maxLength={120}
        />
      </div>
      <div className="field-row">
        <TextField
          id={id('postalCode')}
          name="postalCode"
          label="Postal code"
          defaultValue={initialValue(result, defaults, 'postalCode')}
          error={err('postalCode')}
          required
          autoComplete="postal-code"
          maxLength={20}
        />
        <div className={`field${countryError ? ' field-invalid' : ''}`}>
          <label htmlFor={id('country')}>Country</label>
          {/* React applies a select's defaultValue only on mount; the key remounts it with the
              submitted value so the form reset after a rejected submit keeps the choice. */}
          <select
            key={initialValue(result, defaults, 'country')}
            id={id('country')}
            name="country"
            defaultValue={initialValue(result, defaults, 'country')}
            required
            autoComplete="country"
            aria-invalid={countryError ? true : undefined}
            aria-describedby={countryError ? `${id('country')}-error` : undefined}
          >
            <option value="">Choose a country…</option>
            {countries.map((c) => (
              <option key={c.code} value={c.code}>
                {c.name} ({c.code})
              </option>
            ))}
          </select>
          {countryError ? (
            <p className="field-error" id={`${id('country')}-error`}>
              {countryError}
            </p>
          ) : null}
        </div>
      </div>
      <TextField
        id={id('owner')}
        name="owner"
        label="Owner reference"
        optional
        defaultValue={initialValue(result, defaults, 'owner')}
        error={err('owner')}
        hint={`Who the address belongs to, e.g. a customer number.${clear}`}
        maxLength={200}
      />
    </div>
  );
}

/** The form-level outcome: success, conflict (with a reload link) or a rule that was broken. */
export function FormMessage({ result, reloadHref }: { result: ActionResult; reloadHref?: string }) {
  const formErrors = result.errors?._form ?? [];
  if (result.status === 'idle' || (!result.message && formErrors.length === 0)) {
    return <div aria-live="polite" />;
  }
  const tone = result.status === 'ok' ? 'notice-ok' : result.status === 'conflict' ? 'notice-warn' : 'notice-error';
  return (
    <div className={`notice ${tone}`} role={result.status === 'ok' ? 'status' : 'alert'}>
      {result.message ? <p>{result.message}</p> : null}
      {formErrors.map((m) => (
        <p key={m}>{m}</p>
      ))}
      {result.status === 'conflict' && reloadHref ? (
        <p>
          <a href={reloadHref}>Reload the address</a>
        </p>
      ) : null}
    </div>
  );
}

export function HiddenInputs({ values }: { values: Record<string, string | number> }) {
  return (
    <>
      {Object.entries(values).map(([name, value]) => (
        <input key={name} type="hidden" name={name} value={String(value)} />
      ))}
    </>
  );
}
