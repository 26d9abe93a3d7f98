import 'server-only';
import { randomUUID } from 'node:crypto';
import {
  ADDRESS_FIELDS,
  type AddressFields,
  AddressNotFound,
  addressIdFromStream,
  fieldValue,
  InvalidAddress,
  isDomainError,
} from '@/domain/address';
import { DuplicateAddressError, IdempotencyKeyReusedError, VersionConflictError } from '@/domain/event-store/errors';
import type { Actor, CommandMetadata } from '@/domain/messages';
import { ForbiddenError, UnauthorizedError } from '@/lib/auth/errors';
import { currentActor } from '@/lib/auth/request-actor';
import { ledger } from '@/lib/ledger';
import { logger } from '@/lib/logger';
import { FIELD_LABELS, type ValidationIssue } from '@/lib/validation/address';
import type { ActionResult } from './form-result';

export type FormValues = Record<string, string>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Fields the forms echo back so a rejected submit keeps what was typed (never the token). */
const ECHOED = new Set<string>([...ADDRESS_FIELDS, 'reason', 'corrects', 'version']);

/** The text entries of a submitted form (Next's own `$ACTION_*` keys and files dropped). */
export function formValues(formData: FormData): FormValues {
  const out: FormValues = {};
  for (const [key, value] of formData.entries()) {
    if (key.startsWith('$ACTION') || typeof value !== 'string') continue;
    out[key] = value;
  }
  return out;
}

function echo(values: FormValues): FormValues {
  return Object.fromEntries(Object.entries(values).filter(([key]) => ECHOED.has(key)));
}

/** Boundary messages are lower-case fragments ("postal code is required"); forms show sentences. */
export function sentence(message: string): string {
  const trimmed = message.trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
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

export function invalid(values: FormValues, issues: readonly ValidationIssue[]): ActionResult {
  return {
    status: 'invalid',
    message: 'Please correct the highlighted fields.',
    errors: issuesToErrors(issues),
    values: echo(values),
  };
}

export function rejected(values: FormValues, message: string): ActionResult {
  return { status: 'rejected', message: sentence(message), values: echo(values) };
}

export function conflict(values: FormValues, actualVersion: number): ActionResult {
  return {
    status: 'conflict',
    message: `Someone else changed this address (now version ${actualVersion}); reload to see their change. Your input has not been saved.`,
    version: actualVersion,
    values: echo(values),
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
 * The fields the operator actually edited, compared with the address as it stands, as the raw
 * form text (the zod schema cleans it afterwards). A field missing from the form is left alone;
 * an untouched field is not re-validated, so old data never blocks an unrelated edit.
 */
export function editedFields(current: AddressFields, values: FormValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ADDRESS_FIELDS) {
    const raw = values[name];
    if (raw === undefined) continue;
    let cleaned = raw.trim().normalize('NFC');
    if (name === 'country') cleaned = cleaned.toUpperCase();
    if (name === 'postalCode') cleaned = cleaned.replace(/\s+/g, ' ').toUpperCase();
    if (cleaned !== (fieldValue(current, name) ?? '')) out[name] = raw;
  }
  return out;
}

/**
 * Runs one form action: the role check (again, on the server), then `work`, with every failure
 * turned into a result the form can show. A conflict or a broken rule is a result, not a crash.
 */
export async function runFormAction(
  values: FormValues,
  work: (actor: Actor) => Promise<ActionResult>,
): Promise<ActionResult> {
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
async function duplicate(values: FormValues, existingStreamId: string): Promise<ActionResult> {
  const addressId = addressIdFromStream(existingStreamId);
  const { state } = await ledger().loadAddress(addressId);
  const summary = state.fields ? `${state.fields.line1}, ${state.fields.city}` : addressId;
  return {
    status: 'duplicate',
    message: 'This address is already registered. Nothing was saved.',
    existing: { addressId, summary },
    values: echo(values),
  };
}

export async function errorResult(error: unknown, values: FormValues): Promise<ActionResult> {
  if (error instanceof VersionConflictError) return conflict(values, error.actualVersion);
  if (error instanceof DuplicateAddressError) return duplicate(values, error.existingStreamId);
  if (error instanceof InvalidAddress) {
    return invalid(
      values,
      error.issues.map((i) => ({
        path: i.field,
        message: `${FIELD_LABELS[i.field as keyof typeof FIELD_LABELS] ?? i.field} ${i.message}`,
      })),
    );
  }
  if (error instanceof AddressNotFound) return rejected(values, 'This address does not exist.');
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
