'use client';

import { type ReactNode, useActionState, useState } from 'react';
import { ConfirmButton, FormMessage, SubmitButton } from '@/app/_components/form-fields';
import { type FormState, fieldError, IDLE } from '@/app/_lib/form-state';
import {
  archiveAddress,
  changeAddress,
  correctAddress,
  registerAddress,
  restoreAddress,
  revertChange,
} from '../actions';
import { ConflictScreen } from './conflict-screen';
import { AddressInputs, type CountryOption, HiddenInputs, ReasonField } from './fields';

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
  idPrefix: string;
  /** What `useActionState` returned for the form's action. */
  state: readonly [FormState, (formData: FormData) => void, boolean];
  /** The submit button's label, also used for the re-submit after a conflict. */
  submitLabel: string;
  reasonRequired: boolean;
  children: ReactNode;
}

/**
 * A form that edits one address: its hidden inputs and its outcome. After a version conflict the
 * conflict screen takes the inputs' place and re-submits at the version it names.
 */
function EditForm({ label, state, addressId, version, token, children, ...rest }: EditFormProps) {
  const [result, action, pending] = state;
  const conflict = result.status === 'conflict' ? result.conflict : undefined;
  const reloadHref = `/addresses/${addressId}`;
  return (
    <form action={action} className="form" noValidate aria-label={label}>
      <HiddenInputs
        values={{
          addressId,
          expectedVersion: conflict?.currentVersion ?? version,
          token: conflict?.token ?? token,
        }}
      />
      {conflict ? (
        <ConflictScreen
          key={conflict.token}
          conflict={conflict}
          result={result}
          idPrefix={rest.idPrefix}
          reasonRequired={rest.reasonRequired}
          pending={pending}
          submitLabel={rest.submitLabel}
          reloadHref={reloadHref}
        />
      ) : (
        <>
          <FormMessage result={result} currentVersion={version} />
          {children}
        </>
      )}
    </form>
  );
}

interface FieldEditProps extends EditProps {
  fields: Record<string, string | undefined>;
  countries: CountryOption[];
}

export function ChangeForm({ fields, countries, ...edit }: FieldEditProps) {
  const state = useActionState(changeAddress, IDLE);
  const [result, , pending] = state;
  return (
    <EditForm
      label="Change address"
      idPrefix="change"
      state={state}
      submitLabel="Save change"
      reasonRequired={false}
      {...edit}
    >
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
  /** What the version did, in words (see `versionSummary`). */
  label: string;
  /** The values this version recorded (offered to the correction form as its starting point). */
  fields?: Record<string, string | undefined>;
}

interface VersionSelectProps {
  id: string;
  name: 'corrects' | 'version';
  label: string;
  result: FormState;
  versions: VersionOption[];
  /** The chosen version ('' = none yet). */
  value: string;
  onChange: (value: string) => void;
}

/** Picks one earlier version; nothing is chosen until the operator chooses. */
function VersionSelect({ id, name, label, result, versions, value, onChange }: VersionSelectProps) {
  const error = fieldError(result, name);
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        name={name}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      >
        <option value="">Choose a version…</option>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            {v.label}
          </option>
        ))}
      </select>
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** The version a picker shows: the operator's choice, else the one a rejected submit sent back. */
function useVersionChoice(result: FormState, name: 'corrects' | 'version') {
  const [picked, setPicked] = useState<string | null>(null);
  return [picked ?? result.values?.[name] ?? '', setPicked] as const;
}

interface CorrectFormProps extends EditProps {
  countries: CountryOption[];
  versions: VersionOption[];
}

/** The fields start from the values the chosen version recorded; nothing shows until one is chosen. */
export function CorrectForm({ countries, versions, ...edit }: CorrectFormProps) {
  const state = useActionState(correctAddress, IDLE);
  const [result, , pending] = state;
  const [chosen, setChosen] = useVersionChoice(result, 'corrects');
  const recorded = versions.find((v) => String(v.version) === chosen)?.fields;
  // Values a rejected submit sent back belong to the version it was for, not to another choice.
  const inputsResult = result.values?.corrects === chosen ? result : IDLE;
  return (
    <EditForm
      label="Correct a recording error"
      idPrefix="correct"
      state={state}
      submitLabel="Record correction"
      reasonRequired
      {...edit}
    >
      <VersionSelect
        id="correct-corrects"
        name="corrects"
        label="Version that was recorded wrong"
        result={result}
        versions={versions}
        value={chosen}
        onChange={setChosen}
      />
      {recorded ? (
        <>
          <p className="hint">What version {chosen} recorded. Enter the values as they should have been recorded.</p>
          <AddressInputs
            key={chosen}
            idPrefix="correct"
            defaults={recorded}
            result={inputsResult}
            countries={countries}
          />
          <ReasonField
            idPrefix="correct"
            result={result}
            required
            hint="Required: what was wrong, e.g. “typo in the street name”."
          />
          <SubmitButton pending={pending} tone="primary" label="Record correction" pendingLabel="Saving…" />
        </>
      ) : (
        <p className="hint">Choose the version whose recording was wrong; its values appear here to correct.</p>
      )}
    </EditForm>
  );
}

interface RevertFormProps extends EditProps {
  versions: VersionOption[];
}

export function RevertForm({ versions, ...edit }: RevertFormProps) {
  const state = useActionState(revertChange, IDLE);
  const [result, , pending] = state;
  const [chosen, setChosen] = useVersionChoice(result, 'version');
  return (
    <EditForm
      label="Revert a change"
      idPrefix="revert"
      state={state}
      submitLabel="Revert change"
      reasonRequired
      {...edit}
    >
      <VersionSelect
        id="revert-version"
        name="version"
        label="Change to undo"
        result={result}
        versions={versions}
        value={chosen}
        onChange={setChosen}
      />
      <ReasonField idPrefix="revert" result={result} required hint="Required: why this change is being undone." />
      <SubmitButton pending={pending} label="Revert change" pendingLabel="Reverting…" />
    </EditForm>
  );
}

type ActionState = EditFormProps['state'];

interface LifecycleProps extends EditProps {
  archived: boolean;
}

/**
 * Archive or restore, whichever the address's status allows. A success swaps one for the other
 * (the page renders again with the new status), so the outcome is kept here, above both: inside
 * the form that went away it vanished with it, and the focus was left on the page body instead
 * of on the message (FormMessage moves it there).
 */
export function LifecycleForms({ archived, ...edit }: LifecycleProps) {
  const archive = useActionState(archiveAddress, IDLE);
  const restore = useActionState(restoreAddress, IDLE);
  // The outcome of the form no longer on screen; the one on screen shows its own.
  const swappedOut = archived ? archive[0] : restore[0];
  return (
    <>
      {swappedOut.status === 'ok' ? <FormMessage result={swappedOut} currentVersion={edit.version} /> : null}
      {archived ? (
        <details className="panel" open>
          <summary>Restore</summary>
          <RestoreForm state={restore} {...edit} />
        </details>
      ) : (
        <details className="panel">
          <summary>Archive</summary>
          <p className="hint">The address is no longer in use. Its history stays; it can be restored.</p>
          <ArchiveForm state={archive} {...edit} />
        </details>
      )}
    </>
  );
}

function ArchiveForm({ state, ...edit }: EditProps & { state: ActionState }) {
  const [result, , pending] = state;
  return (
    <EditForm
      label="Archive address"
      idPrefix="archive"
      state={state}
      submitLabel="Archive address"
      reasonRequired
      {...edit}
    >
      <ReasonField
        idPrefix="archive"
        result={result}
        required
        hint="Required: why the address is no longer in use, e.g. “building demolished”."
      />
      <div className="actions">
        <ConfirmButton
          label="Archive address"
          question="Archive this address? It leaves the active register until restored."
          confirmLabel="Yes, archive"
          pending={pending}
          pendingLabel="Archiving…"
        />
      </div>
    </EditForm>
  );
}

function RestoreForm({ state, ...edit }: EditProps & { state: ActionState }) {
  const [result, , pending] = state;
  return (
    <EditForm
      label="Restore address"
      idPrefix="restore"
      state={state}
      submitLabel="Restore address"
      reasonRequired={false}
      {...edit}
    >
      <ReasonField idPrefix="restore" result={result} />
      <SubmitButton pending={pending} tone="primary" label="Restore address" pendingLabel="Restoring…" />
    </EditForm>
  );
}
