'use client';

import { type ReactNode, useActionState } from 'react';
import { SubmitButton } from '@/app/_components/form-fields';
import { type ActionResult, fieldError, IDLE } from '../_lib/form-result';
import {
  archiveAddress,
  changeAddress,
  correctAddress,
  registerAddress,
  restoreAddress,
  revertChange,
} from '../actions';
import { AddressInputs, type CountryOption, FormMessage, HiddenInputs, ReasonField } from './fields';

/*
 * The address forms. Each carries, in hidden inputs, the address id, the version the operator is
 * looking at (the server refuses the command if the address has moved on) and an idempotency token
 * minted when the page rendered, so a double submit appends once. The server re-checks everything.
 */

interface RegisterFormProps {
  token: string;
  countries: CountryOption[];
  defaultCountry: string;
}

export function RegisterForm({ token, countries, defaultCountry }: RegisterFormProps) {
  const [result, action, pending] = useActionState(registerAddress, IDLE);
  return (
    <form action={action} className="form" noValidate>
      <HiddenInputs values={{ token }} />
      <FormMessage result={result} />
      <AddressInputs
        idPrefix="register"
        mode="new"
        defaults={{ country: defaultCountry }}
        result={result}
        countries={countries}
      />
      <SubmitButton pending={pending} tone="primary" label="Register address" pendingLabel="Registering…" />
    </form>
  );
}

interface EditProps {
  addressId: string;
  version: number;
  token: string;
}

interface EditFormProps extends EditProps {
  /** The form's accessible name. */
  label: string;
  action: (formData: FormData) => void;
  result: ActionResult;
  children: ReactNode;
}

/** A form that edits one address: its hidden inputs and its outcome (with a reload link on conflict). */
function EditForm({ label, action, result, addressId, version, token, children }: EditFormProps) {
  return (
    <form action={action} className="form" noValidate aria-label={label}>
      <HiddenInputs values={{ addressId, expectedVersion: version, token }} />
      <FormMessage result={result} reloadHref={`/addresses/${addressId}`} />
      {children}
    </form>
  );
}

interface FieldEditProps extends EditProps {
  fields: Record<string, string | undefined>;
  countries: CountryOption[];
}

export function ChangeForm({ fields, countries, ...edit }: FieldEditProps) {
  const [result, action, pending] = useActionState(changeAddress, IDLE);
  return (
    <EditForm label="Change address" action={action} result={result} {...edit}>
      <AddressInputs idPrefix="change" defaults={fields} result={result} countries={countries} />
      <ReasonField
        idPrefix="change"
        result={result}
        hint="Why the address changed, e.g. “street renamed by the city”."
      />
      <SubmitButton pending={pending} tone="primary" label="Save change" pendingLabel="Saving…" />
    </EditForm>
  );
}

export interface VersionOption {
  version: number;
  label: string;
}

interface VersionSelectProps {
  id: string;
  name: 'corrects' | 'version';
  label: string;
  result: ActionResult;
  /** The address version the form was rendered at (a new version remounts the select). */
  version: number;
  versions: VersionOption[];
  /** Chosen when there is no submitted value and no version to offer. */
  fallback: string | number;
}

/** Picks one earlier version; the latest is chosen until a rejected submit brings back the choice. */
function VersionSelect({ id, name, label, result, version, versions, fallback }: VersionSelectProps) {
  const error = fieldError(result, name);
  const submitted = result.values?.[name];
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <select
        key={`${submitted ?? 'default'}@${version}`}
        id={id}
        name={name}
        defaultValue={submitted ?? String(versions.at(-1)?.version ?? fallback)}
        aria-invalid={error ? true : undefined}
      >
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            {v.label}
          </option>
        ))}
      </select>
      {error ? <p className="field-error">{error}</p> : null}
    </div>
  );
}

interface CorrectFormProps extends FieldEditProps {
  versions: VersionOption[];
}

export function CorrectForm({ fields, countries, versions, ...edit }: CorrectFormProps) {
  const [result, action, pending] = useActionState(correctAddress, IDLE);
  return (
    <EditForm label="Correct a recording error" action={action} result={result} {...edit}>
      <VersionSelect
        id="correct-corrects"
        name="corrects"
        label="Version that was recorded wrong"
        result={result}
        version={edit.version}
        versions={versions}
        fallback={edit.version}
      />
      <p className="hint">Enter the values as they should have been recorded.</p>
      <AddressInputs idPrefix="correct" defaults={fields} result={result} countries={countries} />
      <ReasonField
        idPrefix="correct"
        result={result}
        required
        hint="Required: what was wrong, e.g. “typo in the street name”."
      />
      <SubmitButton pending={pending} tone="primary" label="Record correction" pendingLabel="Saving…" />
    </EditForm>
  );
}

interface RevertFormProps extends EditProps {
  versions: VersionOption[];
}

export function RevertForm({ versions, ...edit }: RevertFormProps) {
  const [result, action, pending] = useActionState(revertChange, IDLE);
  return (
    <EditForm label="Revert a change" action={action} result={result} {...edit}>
      <VersionSelect
        id="revert-version"
        name="version"
        label="Change to undo"
        result={result}
        version={edit.version}
        versions={versions}
        fallback=""
      />
      <ReasonField idPrefix="revert" result={result} required hint="Required: why this change is being undone." />
      <SubmitButton pending={pending} label="Revert change" pendingLabel="Reverting…" />
    </EditForm>
  );
}

export function ArchiveForm(edit: EditProps) {
  const [result, action, pending] = useActionState(archiveAddress, IDLE);
  return (
    <EditForm label="Archive address" action={action} result={result} {...edit}>
      <ReasonField
        idPrefix="archive"
        result={result}
        required
        hint="Required: why the address is no longer in use, e.g. “building demolished”."
      />
      <SubmitButton pending={pending} tone="danger" label="Archive address" pendingLabel="Archiving…" />
    </EditForm>
  );
}

export function RestoreForm(edit: EditProps) {
  const [result, action, pending] = useActionState(restoreAddress, IDLE);
  return (
    <EditForm label="Restore address" action={action} result={result} {...edit}>
      <ReasonField idPrefix="restore" result={result} />
      <SubmitButton pending={pending} tone="primary" label="Restore address" pendingLabel="Restoring…" />
    </EditForm>
  );
}
