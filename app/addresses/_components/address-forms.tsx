'use client';

import { useActionState } from 'react';
import { IDLE } from '../_lib/form-result';
import {
  archiveAddress,
  changeAddress,
  correctAddress,
  registerAddress,
  restoreAddress,
  revertChange,
} from '../actions';
import { AddressInputs, type CountryOption, FormMessage, HiddenInputs, TextField } from './fields';

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
      <div className="actions">
        <button type="submit" className="button primary" disabled={pending}>
          {pending ? 'Registering…' : 'Register address'}
        </button>
      </div>
    </form>
  );
}

interface EditProps {
  addressId: string;
  version: number;
  token: string;
}

interface FieldEditProps extends EditProps {
  fields: Record<string, string | undefined>;
  countries: CountryOption[];
}

export function ChangeForm({ addressId, version, token, fields, countries }: FieldEditProps) {
  const [result, action, pending] = useActionState(changeAddress, IDLE);
  return (
    <form action={action} className="form" noValidate aria-label="Change address">
      <HiddenInputs values={{ addressId, expectedVersion: version, token }} />
      <FormMessage result={result} reloadHref={`/addresses/${addressId}`} />
      <AddressInputs idPrefix="change" defaults={fields} result={result} countries={countries} />
      <TextField
        id="change-reason"
        name="reason"
        label="Reason"
        optional
        multiline
        defaultValue={result.values?.reason ?? ''}
        error={result.errors?.reason?.[0]}
        hint="Why the address changed, e.g. “street renamed by the city”."
        maxLength={500}
      />
      <div className="actions">
        <button type="submit" className="button primary" disabled={pending}>
          {pending ? 'Saving…' : 'Save change'}
        </button>
      </div>
    </form>
  );
}

export interface VersionOption {
  version: number;
  label: string;
}

interface CorrectFormProps extends FieldEditProps {
  versions: VersionOption[];
}

export function CorrectForm({ addressId, version, token, fields, countries, versions }: CorrectFormProps) {
  const [result, action, pending] = useActionState(correctAddress, IDLE);
  const err = (name: string) => result.errors?.[name]?.[0];
  return (
    <form action={action} className="form" noValidate aria-label="Correct a recording error">
      <HiddenInputs values={{ addressId, expectedVersion: version, token }} />
      <FormMessage result={result} reloadHref={`/addresses/${addressId}`} />
      <div className={`field${err('corrects') ? ' field-invalid' : ''}`}>
        <label htmlFor="correct-corrects">Version that was recorded wrong</label>
        <select
          key={`${result.values?.corrects ?? 'default'}@${version}`}
          id="correct-corrects"
          name="corrects"
          defaultValue={result.values?.corrects ?? String(versions.at(-1)?.version ?? version)}
          aria-invalid={err('corrects') ? true : undefined}
        >
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              {v.label}
            </option>
          ))}
        </select>
        {err('corrects') ? <p className="field-error">{err('corrects')}</p> : null}
      </div>
      <p className="hint">Enter the values as they should have been recorded.</p>
      <AddressInputs idPrefix="correct" defaults={fields} result={result} countries={countries} />
      <TextField
        id="correct-reason"
        name="reason"
        label="Reason"
        required
        multiline
        defaultValue={result.values?.reason ?? ''}
        error={err('reason')}
        hint="Required: what was wrong, e.g. “typo in the street name”."
        maxLength={500}
      />
      <div className="actions">
        <button type="submit" className="button primary" disabled={pending}>
          {pending ? 'Saving…' : 'Record correction'}
        </button>
      </div>
    </form>
  );
}

interface RevertFormProps extends EditProps {
  versions: VersionOption[];
}

export function RevertForm({ addressId, version, token, versions }: RevertFormProps) {
  const [result, action, pending] = useActionState(revertChange, IDLE);
  const err = (name: string) => result.errors?.[name]?.[0];
  return (
    <form action={action} className="form" noValidate aria-label="Revert a change">
      <HiddenInputs values={{ addressId, expectedVersion: version, token }} />
      <FormMessage result={result} reloadHref={`/addresses/${addressId}`} />
      <div className={`field${err('version') ? ' field-invalid' : ''}`}>
        <label htmlFor="revert-version">Change to undo</label>
        <select
          key={`${result.values?.version ?? 'default'}@${version}`}
          id="revert-version"
          name="version"
          defaultValue={result.values?.version ?? String(versions.at(-1)?.version ?? '')}
          aria-invalid={err('version') ? true : undefined}
        >
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              {v.label}
            </option>
          ))}
        </select>
        {err('version') ? <p className="field-error">{err('version')}</p> : null}
      </div>
      <TextField
        id="revert-reason"
        name="reason"
        label="Reason"
        required
        multiline
        defaultValue={result.values?.reason ?? ''}
        error={err('reason')}
        hint="Required: why this change is being undone."
        maxLength={500}
      />
      <div className="actions">
        <button type="submit" className="button" disabled={pending}>
          {pending ? 'Reverting…' : 'Revert change'}
        </button>
      </div>
    </form>
  );
}

export function ArchiveForm({ addressId, version, token }: EditProps) {
  const [result, action, pending] = useActionState(archiveAddress, IDLE);
  return (
    <form action={action} className="form" noValidate aria-label="Archive address">
      <HiddenInputs values={{ addressId, expectedVersion: version, token }} />
      <FormMessage result={result} reloadHref={`/addresses/${addressId}`} />
      <TextField
        id="archive-reason"
        name="reason"
        label="Reason"
        required
        multiline
        defaultValue={result.values?.reason ?? ''}
        error={result.errors?.reason?.[0]}
        hint="Required: why the address is no longer in use, e.g. “building demolished”."
        maxLength={500}
      />
      <div className="actions">
        <button type="submit" className="button danger" disabled={pending}>
          {pending ? 'Archiving…' : 'Archive address'}
        </button>
      </div>
    </form>
  );
}

export function RestoreForm({ addressId, version, token }: EditProps) {
  const [result, action, pending] = useActionState(restoreAddress, IDLE);
  return (
    <form action={action} className="form" noValidate aria-label="Restore address">
      <HiddenInputs values={{ addressId, expectedVersion: version, token }} />
      <FormMessage result={result} reloadHref={`/addresses/${addressId}`} />
      <TextField
        id="restore-reason"
        name="reason"
        label="Reason"
        optional
        multiline
        defaultValue={result.values?.reason ?? ''}
        error={result.errors?.reason?.[0]}
        maxLength={500}
      />
      <div className="actions">
        <button type="submit" className="button primary" disabled={pending}>
          {pending ? 'Restoring…' : 'Restore address'}
        </button>
      </div>
    </form>
  );
}
