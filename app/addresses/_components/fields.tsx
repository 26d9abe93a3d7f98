'use client';

import { Field, type FieldProps } from '@/app/_components/form-fields';
import { type FormState, fieldError } from '@/app/_lib/form-state';

export interface CountryOption {
  code: string;
  name: string;
}

interface AddressInputsProps {
  idPrefix: string;
  defaults: Record<string, string | undefined>;
  result: FormState;
  countries: CountryOption[];
  /** `new` for registration (an empty optional field is simply not set), `edit` otherwise. */
  mode?: 'new' | 'edit';
}

/** What one address text field takes besides its name, label, value and error. */
type AddressTextProps = Omit<FieldProps, 'id' | 'name' | 'label' | 'defaultValue' | 'error'>;

function initialValue(result: FormState, defaults: Record<string, string | undefined>, name: string): string {
  return result.values?.[name] ?? defaults[name] ?? '';
}

/** The seven address fields, pre-filled with the submitted values after a rejected submit. */
export function AddressInputs({ idPrefix, defaults, result, countries, mode = 'edit' }: AddressInputsProps) {
  const clear = mode === 'edit' ? ' Leave empty to clear.' : '';
  const err = (name: string) => fieldError(result, name);
  const id = (name: string) => `${idPrefix}-${name}`;
  const countryError = err('country');
  const text = (name: string, label: string, props: AddressTextProps) => (
    <Field
      id={id(name)}
      name={name}
      label={label}
      defaultValue={initialValue(result, defaults, name)}
      error={err(name)}
      {...props}
    />
  );
  return (
    <div className="address-inputs">
      {text('line1', 'Street address', { required: true, autoComplete: 'address-line1', maxLength: 200 })}
      {text('line2', 'Address line 2', {
        optional: true,
        hint: `Apartment, suite, building.${clear}`,
        autoComplete: 'address-line2',
        maxLength: 200,
      })}
      <div className="field-row">
        {text('city', 'City / town', { required: true, autoComplete: 'address-level2', maxLength: 120 })}
        {text('region', 'Region / state', { optional: true, autoComplete: 'address-level1', maxLength: 120 })}
      </div>
      <div className="field-row">
        {text('postalCode', 'Postal code', { required: true, autoComplete: 'postal-code', maxLength: 20 })}
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
      {text('owner', 'Owner reference', {
        optional: true,
        hint: `Who the address belongs to, e.g. a customer number.${clear}`,
        maxLength: 200,
      })}
    </div>
  );
}

interface ReasonFieldProps {
  /** The form's id prefix: the field's id is `${idPrefix}-reason`. */
  idPrefix: string;
  result: FormState;
  /** Required reasons are marked so; the others show "(optional)". */
  required?: boolean;
  hint?: string;
}

/** The free-text reason an edit form records with its event, kept after a rejected submit. */
export function ReasonField({ idPrefix, result, required = false, hint }: ReasonFieldProps) {
  return (
    <Field
      id={`${idPrefix}-reason`}
      name="reason"
      label="Reason"
      required={required || undefined}
      optional={!required || undefined}
      multiline
      defaultValue={result.values?.reason ?? ''}
      error={fieldError(result, 'reason')}
      hint={hint}
      maxLength={500}
    />
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
