'use server';

import { randomUUID } from 'node:crypto';
import { redirect } from 'next/navigation';
import type { FormState } from '@/app/_lib/form-state';
import { addressIdFromStream } from '@/domain/address';
import { hashRequest } from '@/domain/command-handler';
import { ledger } from '@/lib/ledger';
import {
  addressFieldsSchema,
  formatZodIssues,
  optionalReasonSchema,
  postalCodeFitsCountry,
  reasonSchema,
} from '@/lib/validation/address';
import {
  appendEdit,
  conflict,
  formMetadata,
  invalid,
  loadSeen,
  revalidateAddress,
  runFormAction,
  saved,
} from './_lib/action-support';
import {
  editedFields,
  fieldEdit,
  formValues,
  parseChanges,
  parseTargeted,
  registrationFields,
  versionField,
} from './_lib/form-input';

/*
 * Server actions behind the address forms. Thin on purpose: role check → zod → command →
 * `ledger().handle(command, { expectedVersion })` → a plain result for the form. Business rules
 * live in the domain; these only translate between a form and a command.
 */

/** Register: all fields validated; the new id is minted here, so the form cannot choose it. */
export async function registerAddress(_previous: FormState, formData: FormData): Promise<FormState> {
  const values = formValues(formData);
  let createdId: string | undefined;
  const result = await runFormAction(values, async (actor) => {
    const parsed = addressFieldsSchema.safeParse(registrationFields(values));
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
    const changes = parseChanges(edited, values);
    if ('status' in changes) return changes;
    const outcome = await appendEdit(
      actor,
      values,
      { type: 'ChangeAddress', data: { addressId, changes, ...(reason ? { reason } : {}) } },
      expectedVersion,
      { mine, history: loaded.events, check: postalCodeFitsCountry(changes, 'changes') },
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
    const fields = parseChanges(edited, values);
    if ('status' in fields) return fields;
    const outcome = await appendEdit(
      actor,
      values,
      { type: 'CorrectAddress', data: { addressId, corrects, fields, reason } },
      expectedVersion,
      { mine, history: loaded.events, check: postalCodeFitsCountry(fields, 'fields') },
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
      { mine: null },
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
      { mine: null },
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
      { mine: null },
    );
    return saved(outcome, 'Address restored');
  });
}
