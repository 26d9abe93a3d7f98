import 'server-only';
import { randomUUID } from 'node:crypto';
import { revalidatePath } from 'next/cache';
import { type ConflictInfo, type FormState, sentence } from '@/app/_lib/form-state';
import {
  ADDRESS_FIELDS,
  type AddressCommand,
  AddressNotFound,
  type AddressState,
  addressIdFromStream,
  CannotRevert,
  InvalidAddress,
  isDomainError,
  mergeFields,
  ReasonRequired,
  type RegisterAddress,
  RevertConflict,
  stateAt,
} from '@/domain/address';
import type { HandleOptions, HandleResult } from '@/domain/command-handler';
import { DuplicateAddressError, IdempotencyKeyReusedError, VersionConflictError } from '@/domain/event-store/errors';
import type { Actor, CommandMetadata } from '@/domain/messages';
import { ForbiddenError, UnauthorizedError } from '@/lib/auth/errors';
import { currentActor } from '@/lib/auth/request-actor';
import { ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { InvalidInputError, type ValidationIssue } from '@/lib/validation/address';
import { addressTitle, loadAddress } from './address.server';
import type { FieldEdit, FormValues } from './form-input';
import { EVENT_LABELS, FIELD_LABELS, formatTimestamp } from './labels';
import { buildTimeline } from './timeline';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Fields the forms echo back so a rejected submit keeps what was typed (never the token). */
const ECHOED = new Set<string>([...ADDRESS_FIELDS, 'reason', 'corrects', 'version']);

function echo(values: FormValues): FormValues {
  return Object.fromEntries(Object.entries(values).filter(([key]) => ECHOED.has(key)));
}

/** `[{path: 'changes.postalCode', message}]` → `{postalCode: [message]}`; root issues go to `_form`. */
export function issuesToErrors(issues: readonly ValidationIssue[]): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const issue of issues) {
    const field = issue.path.split('.').at(-1) || '_form';
    const list = errors[field] ?? [];
    list.push(sentence(issue.message));
    errors[field] = list;
  }
  return errors;
}

export function invalid(values: FormValues, issues: readonly ValidationIssue[]): FormState {
  return {
    status: 'invalid',
    message: 'Please correct the highlighted fields.',
    errors: issuesToErrors(issues),
    values: echo(values),
  };
}

export function rejected(values: FormValues, message: string): FormState {
  return { status: 'rejected', message: sentence(message), values: echo(values) };
}

/**
 * The form was decided on a version that is no longer current. The result carries what the
 * conflict screen shows: the events saved since (who, when, why, base → theirs per field) and, for
 * a form with address fields, the three-way merge with the operator's own edit (base → mine).
 */
export async function conflict(
  values: FormValues,
  addressId: string,
  baseVersion: number,
  mine: FieldEdit | null,
): Promise<FormState> {
  const { events, state } = await ledger().loadAddress(addressId);
  const timeline = buildTimeline(events);
  const base = stateAt(events, { version: Math.min(baseVersion, state.version) }).fields;
  const info: ConflictInfo = {
    baseVersion,
    currentVersion: state.version,
    events: timeline
      .filter((e) => e.version > baseVersion)
      .map((e) => ({
        version: e.version,
        what: EVENT_LABELS[e.type],
        actor: e.actor.name,
        recordedAt: formatTimestamp(e.recordedAt),
        ...(e.reason ? { reason: e.reason } : {}),
        changes: e.diffs.map((d) => ({ ...d, label: FIELD_LABELS[d.field] })),
      })),
    fields:
      mine && base && state.fields
        ? mergeFields(base, state.fields, mine).map((m) => ({ ...m, label: FIELD_LABELS[m.field] }))
        : [],
    token: randomUUID(),
  };
  return {
    status: 'conflict',
    message: `Someone else saved this address after you opened it (it is now at version ${state.version}). Nothing you entered is lost: check both sides below and save again.`,
    version: state.version,
    values: echo(values),
    conflict: info,
  };
}

/**
 * Command metadata for a form submit. The idempotency token was minted when the form was
 * rendered; scoped to the actor, it makes a double submit of the same form append once.
 */
export function formMetadata(actor: Actor, token: string | undefined): CommandMetadata {
  const commandId = token && UUID.test(token) ? `ui:${actor.id}:${token.toLowerCase()}` : randomUUID();
  return { commandId, correlationId: commandId, actor, source: 'ui' };
}

/**
 * Runs one form action: the role check (again, on the server), then `work`, with every failure
 * turned into a result the form can show. A conflict or a broken rule is a result, not a crash.
 */
export async function runFormAction(
  values: FormValues,
  work: (actor: Actor) => Promise<FormState>,
): Promise<FormState> {
  let actor: Actor;
  try {
    actor = await currentActor('address:write');
  } catch (error) {
    if (error instanceof UnauthorizedError) {
      return { status: 'forbidden', message: 'Your session has ended. Sign in again to save changes.' };
    }
    if (error instanceof ForbiddenError) {
      return { status: 'forbidden', message: 'Your role can view addresses but not change them.' };
    }
    throw error;
  }
  try {
    return await work(actor);
  } catch (error) {
    return await errorResult(error, values);
  }
}

/**
 * The address is the same as an active one (the duplicate guard): the form names that one with a
 * link instead of an error, since the operator most likely wants to open it.
 */
async function duplicate(values: FormValues, existingStreamId: string): Promise<FormState> {
  const addressId = addressIdFromStream(existingStreamId);
  const { state } = await ledger().loadAddress(addressId);
  const summary = state.fields ? addressTitle(state.fields) : addressId;
  return {
    status: 'duplicate',
    message: 'This address is already registered. Nothing was saved.',
    existing: { addressId, summary },
    values: echo(values),
  };
}

export async function errorResult(error: unknown, values: FormValues): Promise<FormState> {
  // Edits catch their conflicts themselves (appendEdit), with the operator's edit for the merge.
  if (error instanceof VersionConflictError) {
    return conflict(values, addressIdFromStream(error.streamId), error.expectedVersion, null);
  }
  if (error instanceof DuplicateAddressError) return duplicate(values, error.existingStreamId);
  if (error instanceof InvalidInputError) return invalid(values, error.issues);
  if (error instanceof InvalidAddress) {
    return invalid(
      values,
      error.issues.map((i) => ({
        path: i.field,
        message: `${FIELD_LABELS[i.field as keyof typeof FIELD_LABELS] ?? 'This field'} ${i.message}`,
      })),
    );
  }
  if (error instanceof AddressNotFound) return rejected(values, 'This address does not exist.');
  // The domain's messages name fields and commands as the code does; a person reads labels.
  if (error instanceof RevertConflict) {
    const fields = error.conflicts.map(
      (c) => `${FIELD_LABELS[c.field]} (changed again in version ${c.versions.join(', ')})`,
    );
    return rejected(
      values,
      `Version ${values.version} cannot be reverted: later versions changed the same fields: ${fields.join('; ')}. Correct the address instead.`,
    );
  }
  if (error instanceof CannotRevert) {
    const type = error.details?.eventType as keyof typeof EVENT_LABELS;
    const hint = error.message.slice(error.message.indexOf(': ') + 2);
    return rejected(values, `Version ${values.version} (${EVENT_LABELS[type] ?? type}) cannot be reverted: ${hint}`);
  }
  if (error instanceof ReasonRequired) return invalid(values, [{ path: 'reason', message: 'a reason is required' }]);
  if (isDomainError(error)) return rejected(values, error.message);
  if (error instanceof IdempotencyKeyReusedError) {
    return rejected(values, 'This form was already submitted with other values. Reload the page and try again.');
  }
  const reference = randomUUID();
  logger.error({ err: error, reference }, 'address form action failed');
  return {
    status: 'error',
    message: `Something went wrong on our side (reference ${reference}). Nothing was saved; please try again.`,
    values: echo(values),
  };
}

/** A command on an existing address, without the metadata `appendEdit` adds from the form. */
export type EditCommand<C = Exclude<AddressCommand, RegisterAddress>> = C extends AddressCommand
  ? Omit<C, 'metadata'>
  : never;

/** How an edit is appended: the operator's field edit for a conflict's merge, and what the form already read. */
export interface EditOptions {
  /** The operator's own field edit, merged on the conflict screen (null: archive, restore, revert). */
  mine: FieldEdit | null;
  /** The stream as `loadSeen` read it, so the handler does not read it again. */
  history?: HandleOptions<AddressState>['history'];
  /** A rule checked on the state the command is decided on (see `postalCodeFitsCountry`). */
  check?: HandleOptions<AddressState>['check'];
}

/**
 * Appends an edit of an existing address at the version the form was rendered at. If the address
 * has moved on, the result is the conflict screen's data.
 */
export async function appendEdit(
  actor: Actor,
  values: FormValues,
  command: EditCommand,
  expectedVersion: number,
  options: EditOptions,
): Promise<HandleResult | FormState> {
  try {
    const outcome = await ledger().handle(
      { ...command, metadata: formMetadata(actor, values.token) },
      { expectedVersion, history: options.history, check: options.check },
    );
    revalidateAddress(command.data.addressId);
    return outcome;
  } catch (error) {
    if (!(error instanceof VersionConflictError)) throw error;
    return conflict(values, command.data.addressId, expectedVersion, options.mine);
  }
}

export function revalidateAddress(addressId: string) {
  revalidatePath(`/addresses/${addressId}`);
  revalidatePath(`/addresses/${addressId}/history`);
  revalidatePath('/addresses');
}

/** The form's outcome after an append: what was saved, or the conflict screen's data. */
export function saved(outcome: HandleResult | FormState, what: string): FormState {
  if ('status' in outcome) return outcome;
  return outcome.appended === 0
    ? { status: 'ok', message: `Already saved (version ${outcome.version}).`, version: outcome.version }
    : { status: 'ok', message: `${what}: now version ${outcome.version}.`, version: outcome.version };
}

/**
 * The fields as the operator saw them (the state at `seenVersion`: the form's version, or the
 * version a correction starts from), so the same form submitted twice builds the same command and
 * the second submit replays the first result; and the events read, for the handler to reuse.
 */
export async function loadSeen(addressId: string, seenVersion: number, values: FormValues) {
  const record = await loadAddress(addressId);
  if (!record?.state.fields) return rejected(values, 'This address does not exist.');
  if (seenVersion > record.state.version) {
    return rejected(values, `This address has no version ${seenVersion}; reload the page.`);
  }
  const seen = stateAt(record.events, { version: seenVersion });
  if (!seen.fields) return rejected(values, 'This address does not exist.');
  return { fields: seen.fields, currentVersion: record.state.version, events: record.events };
}
