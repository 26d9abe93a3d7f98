'use server';

import { randomUUID } from 'node:crypto';
import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { z } from 'zod';
import type { FormState } from '@/app/_lib/form-state';
import { type AddressCommand, addressIdFromStream, type RegisterAddress, stateAt } from '@/domain/address';
import { type HandleResult, hashRequest } from '@/domain/command-handler';
import { VersionConflictError } from '@/domain/event-store/errors';
import type { Actor } from '@/domain/messages';
import { ledger } from '@/lib/ledger';
import {
  addressChangesSchema,
  addressFieldsSchema,
  formatZodIssues,
  optionalReasonSchema,
  reasonSchema,
  type ValidationIssue,
  validateChangedPostalCode,
} from '@/lib/validation/address';
import {
  conflict,
  editedFields,
  type FieldEdit,
  type FormValues,
  fieldEdit,
  formMetadata,
  formValues,
  invalid,
  rejected,
  runFormAction,
} from './_lib/action-support';
import { loadAddress } from './_lib/address.server';

/*
 * Server actions behind the address forms. Thin on purpose: role check → zod → command →
 * `ledger().handle(command, { expectedVersion })` → a plain result for the form. Business rules
 * live in the domain; these only translate between a form and a command.
 */

const target = z.object({
  addressId: z.uuid({ error: 'the form does not name an address; reload the page' }),
  expectedVersion: z.coerce.number({ error: 'the form lost its version; reload the page' }).int().min(1),
});
const versionField = (label: string) =>
  z.coerce
    .number({ error: `choose ${label}` })
    .int({ error: `choose ${label}` })
    .min(1, { error: `choose ${label}` });

function paths(prefix: string, issues: ValidationIssue[]): ValidationIssue[] {
  return issues.map((i) => ({ ...i, path: i.path ? `${prefix}.${i.path}` : prefix }));
}

type Targeted<S extends Record<string, z.ZodType>> = z.output<typeof target> & { [K in keyof S]: z.output<S[K]> };

/**
 * Parses the form's target (its address id and version, hidden inputs whose issues belong to no
 * field) together with the named fields (`values[name]`, blank when missing), so one submit shows
 * every issue at once. The parsed values, or the `invalid` result for the form.
 */
function parseTargeted<S extends Record<string, z.ZodType>>(values: FormValues, fields: S): Targeted<S> | FormState {
  const where = target.safeParse(values);
  const issues: ValidationIssue[] = where.success ? [] : formatZodIssues(where.error).map(formLevel);
  const data: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(fields)) {
    const parsed = schema.safeParse(values[name] ?? '');
    if (parsed.success) data[name] = parsed.data;
    else issues.push(...paths(name, formatZodIssues(parsed.error)));
  }
  if (!where.success || issues.length > 0) return invalid(values, issues);
  return { ...where.data, ...data } as Targeted<S>;
}

/** A command on an existing address, without the metadata `appendEdit` adds from the form. */
type EditCommand<C = Exclude<AddressCommand, RegisterAddress>> = C extends AddressCommand ? Omit<C, 'metadata'> : never;

/**
 * Appends an edit of an existing address at the version the form was rendered at. If the address
 * has moved on, the result is the conflict screen's data: `mine` is the operator's own field edit
 * (none for archive, restore, revert), merged there with what others saved.
 */
async function appendEdit(
  actor: Actor,
  values: FormValues,
  command: EditCommand,
  expectedVersion: number,
  mine: FieldEdit | null,
): Promise<HandleResult | FormState> {
  try {
    const outcome = await ledger().handle(
      { ...command, metadata: formMetadata(actor, values.token) },
      { expectedVersion },
    );
    revalidateAddress(command.data.addressId);
    return outcome;
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw error;
    return conflict(values, command.data.addressId, expectedVersion, mine);
  }
}

function revalidateAddress(addressId: string) {
  revalidatePath(`/addresses/${addressId}`);
  revalidatePath(`/addresses/${addressId}/history`);
  revalidatePath('/addresses');
}

/** Register: all fields validated; the new id is minted here, so the form cannot choose it. */
export async function registerAddress(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData);
  let createdId: string | undefined;
  const result = await runFormAction(values, async (actor) => {
    const parsed = addressFieldsSchema.safeParse(pickFields(values));
    if (!parsed.success) return invalid(values, formatZodIssues(parsed.error));
    const fields = parsed.data;
    const outcome = await ledger().handle(
      {
        type: 'RegisterAddress',
        data: { addressId: randomUUID(), fields },
        metadata: formMetadata(actor, values.token),
      },
      // The id is random per submit: hash only what the operator entered, so a double submit of
      // the same form (same token) returns the first registration instead of a second one.
      { requestHash: hashRequest({ type: 'RegisterAddress', fields }) },
    );
    createdId = addressIdFromStream(outcome.streamId);
    return { status: 'ok', message: 'Address registered.', version: outcome.version };
  });
  if (result.status !== 'ok' || !createdId) return result;
  revalidateAddress(createdId);
  redirect(`/addresses/${createdId}?registered=1`);
}

/** The real world changed (a move, a renamed street): only the edited fields become the change. */
export async function changeAddress(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData);
  return runFormAction(values, async (actor) => {
    const parsed = parseTargeted(values, { reason: optionalReasonSchema });
    if ('status' in parsed) return parsed;
    const { addressId, expectedVersion, reason } = parsed;
    const loaded = await loadSeen(addressId, expectedVersion, values);
    if ('status' in loaded) return loaded;
    const mine = fieldEdit(values);
    const edited = editedFields(loaded.fields, values);
    if (Object.keys(edited).length === 0) {
      if (loaded.currentVersion !== expectedVersion) return conflict(values, addressId, expectedVersion, mine);
      return {
        status: 'ok',
        message: `Nothing to save: the values are the same as version ${expectedVersion}.`,
        version: expectedVersion,
      };
    }
    const changes = parseChanges(edited, loaded.current, values);
    if ('status' in changes) return changes;
    const outcome = await appendEdit(
      actor,
      values,
      { type: 'ChangeAddress', data: { addressId, changes, ...(reason ? { reason } : {}) } },
      expectedVersion,
      mine,
    );
    return saved(outcome, 'Change saved');
  });
}

/**
 * What was recorded was wrong: name the wrong version and give the values it should have
 * recorded. The form starts from that version's values, so the fields that differ from them are
 * the correction (a later change of another field is not undone by it).
 */
export async function correctAddress(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData);
  return runFormAction(values, async (actor) => {
    const parsed = parseTargeted(values, {
      corrects: versionField('the version that was recorded wrong'),
      reason: reasonSchema,
    });
    if ('status' in parsed) return parsed;
    const { addressId, expectedVersion, corrects, reason } = parsed;
    const loaded = await loadSeen(addressId, corrects, values);
    if ('status' in loaded) return loaded;
    const edited = editedFields(loaded.fields, values);
    const mine = fieldEdit(values, Object.keys(edited));
    if (Object.keys(edited).length === 0) {
      return invalid(values, [
        {
          path: '',
          message: `nothing to correct: the values are what version ${corrects} recorded; enter them as they should have been recorded`,
        },
      ]);
    }
    if (loaded.currentVersion !== expectedVersion) return conflict(values, addressId, expectedVersion, mine);
    const fields = parseChanges(edited, loaded.current, values);
    if ('status' in fields) return fields;
    const outcome = await appendEdit(
      actor,
      values,
      { type: 'CorrectAddress', data: { addressId, corrects, fields, reason } },
      expectedVersion,
      mine,
    );
    return saved(outcome, `Correction of version ${corrects} saved`);
  });
}

/** Undo one earlier change or correction (recorded as a correction restoring the values before it). */
export async function revertChange(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData);
  return runFormAction(values, async (actor) => {
    const parsed = parseTargeted(values, { version: versionField('the change to undo'), reason: reasonSchema });
    if ('status' in parsed) return parsed;
    const { addressId, expectedVersion, version, reason } = parsed;
    const outcome = await appendEdit(
      actor,
      values,
      { type: 'RevertChange', data: { addressId, version, reason } },
      expectedVersion,
      null,
    );
    if (!('status' in outcome) && outcome.appended === 0) {
      return {
        status: 'ok',
        message: `Nothing to revert: the fields already hold the values from before version ${version}.`,
        version: outcome.version,
      };
    }
    return saved(outcome, `Version ${version} reverted`);
  });
}

export async function archiveAddress(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData);
  return runFormAction(values, async (actor) => {
    const parsed = parseTargeted(values, { reason: reasonSchema });
    if ('status' in parsed) return parsed;
    const { addressId, expectedVersion, reason } = parsed;
    const outcome = await appendEdit(
      actor,
      values,
      { type: 'ArchiveAddress', data: { addressId, reason } },
      expectedVersion,
      null,
    );
    return saved(outcome, 'Address archived');
  });
}

export async function restoreAddress(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData);
  return runFormAction(values, async (actor) => {
    const parsed = parseTargeted(values, { reason: optionalReasonSchema });
    if ('status' in parsed) return parsed;
    const { addressId, expectedVersion, reason } = parsed;
    const outcome = await appendEdit(
      actor,
      values,
      { type: 'RestoreAddress', data: { addressId, ...(reason ? { reason } : {}) } },
      expectedVersion,
      null,
    );
    return saved(outcome, 'Address restored');
  });
}

// --- helpers (not exported: a "use server" module exports only actions) -----------------------

const FIELD_KEYS = ['line1', 'line2', 'city', 'region', 'postalCode', 'country', 'owner'] as const;

function pickFields(values: FormValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of FIELD_KEYS) out[key] = values[key] ?? '';
  return out;
}

/** Issues about the hidden inputs belong to no visible field. */
function formLevel(issue: ValidationIssue): ValidationIssue {
  return { ...issue, path: '' };
}

/** The form's outcome after an append: what was saved, or the conflict screen's data. */
function saved(outcome: HandleResult | FormState, what: string): FormState {
  if ('status' in outcome) return outcome;
  return outcome.appended === 0
    ? { status: 'ok', message: `Already saved (version ${outcome.version}).`, version: outcome.version }
    : { status: 'ok', message: `${what}: now version ${outcome.version}.`, version: outcome.version };
}

/**
 * The fields as the operator saw them (the state at `seenVersion`: the form's version, or the
 * version a correction starts from), so the same form submitted twice builds the same command and
 * the second submit replays the first result; and the current fields, which a partial change of
 * the postal code or the country is checked against.
 */
async function loadSeen(addressId: string, seenVersion: number, values: FormValues) {
  const record = await loadAddress(addressId);
  if (!record?.state.fields) return rejected(values, 'This address does not exist.');
  if (seenVersion > record.state.version) {
    return rejected(values, `This address has no version ${seenVersion}; reload the page.`);
  }
  const seen = stateAt(record.events, { version: seenVersion });
  if (!seen.fields) return rejected(values, 'This address does not exist.');
  return { fields: seen.fields, current: record.state.fields, currentVersion: record.state.version };
}

/**
 * Validates the edited fields as a partial change. When only one of country / postal code was
 * edited, the pair that would result is checked, taking the other from the current address.
 */
function parseChanges(
  edited: Record<string, string>,
  current: { country: string; postalCode: string },
  values: FormValues,
): z.output<typeof addressChangesSchema> | FormState {
  const parsed = addressChangesSchema.safeParse(edited);
  if (!parsed.success) return invalid(values, formatZodIssues(parsed.error));
  const changes = parsed.data;
  const message = validateChangedPostalCode(current, changes);
  if (message) return invalid(values, [{ path: 'postalCode', message }]);
  return changes;
}
