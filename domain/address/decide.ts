import type { CommandMetadata, EventMetadata } from '../messages';
import type {
  AddressCommand,
  ArchiveAddress,
  ChangeAddress,
  CorrectAddress,
  RegisterAddress,
  RestoreAddress,
  RevertChange,
} from './commands';
import {
  AddressAlreadyRegistered,
  AddressArchivedError,
  AddressIdMismatch,
  AddressNotFound,
  CannotRevert,
  InvalidAddress,
  type InvalidFieldIssue,
  ReasonRequired,
  RevertConflict,
  type RevertConflictDetail,
  UnknownVersion,
} from './errors';
import { ADDRESS_EVENT_TYPES, type AddressEvent, type AddressEventType } from './events';
import { assertNever } from './evolve';
import {
  ADDRESS_FIELDS,
  type AddressFieldChanges,
  type AddressFields,
  effectiveChanges,
  isEmptyChanges,
  normalizeFields,
  OPTIONAL_FIELDS,
  REQUIRED_FIELDS,
} from './fields';
import { type AddressFieldChangeLog, type AddressLookback, type AddressState, initialStateWithLookback } from './state';
import { countAfter, countVersions, hasVersion, versionsAfter } from './version-runs';

/**
 * All business rules of an address. Pure and deterministic: everything it needs (ids, actor, time
 * of day is not needed at all) comes in the command; `[]` means "already satisfied, nothing to do".
 */
export function decide(command: AddressCommand, state: AddressState): AddressEvent[] {
  switch (command.type) {
    case 'RegisterAddress':
      return register(command, state);
    case 'ChangeAddress':
      return change(command, state);
    case 'CorrectAddress':
      return correct(command, state);
    case 'RevertChange':
      return revert(command, state);
    case 'ArchiveAddress':
      return archive(command, state);
    case 'RestoreAddress':
      return restore(command, state);
    default:
      return assertNever(command);
  }
}

function register(command: RegisterAddress, state: AddressState): AddressEvent[] {
  const { addressId, fields } = command.data;
  if (state.exists || state.version > 0) throw new AddressAlreadyRegistered(state.addressId ?? addressId);
  const issues = [...addressIdIssues(addressId), ...registrationIssues(fields)];
  if (issues.length > 0) throw new InvalidAddress(issues);
  return [
    {
      type: 'AddressRegistered',
      data: { addressId, ...normalizeFields(fields) },
      metadata: eventMetadata(command.metadata),
    },
  ];
}

function change(command: ChangeAddress, state: AddressState): AddressEvent[] {
  const { addressId } = command.data;
  const current = requireExisting(state, addressId);
  assertValidChanges(command.data.changes, 'changes');
  if (state.status === 'archived') throw new AddressArchivedError(addressId);
  const changes = effectiveChanges(current, command.data.changes);
  if (isEmptyChanges(changes)) return [];
  return [
    {
      type: 'AddressChanged',
      data: { addressId, changes },
      metadata: eventMetadata(command.metadata, optionalReason(command.data.reason)),
    },
  ];
}

/*
 * Corrections (and reverts, which are corrections) are allowed on archived addresses. Archiving
 * says the address is no longer in use; it does not make a wrong record right. A correction does
 * not describe a change in the real world (that is ChangeAddress, which archived addresses refuse),
 * it fixes what was recorded, and the register must stay accurate for audits and history even for
 * addresses nobody uses any more. The status is left as it is.
 */
function correct(command: CorrectAddress, state: AddressState): AddressEvent[] {
  const { addressId, corrects } = command.data;
  const current = requireExisting(state, addressId);
  const reason = requireReason(command.data.reason, command.type);
  requireKnownVersion(corrects, state);
  assertValidChanges(command.data.fields, 'fields');
  const fields = effectiveChanges(current, command.data.fields);
  if (isEmptyChanges(fields)) return [];
  return [
    {
      type: 'AddressCorrected',
      data: { addressId, corrects, fields, reason },
      metadata: eventMetadata(command.metadata, reason),
    },
  ];
}

/**
 * Undo one AddressChanged / AddressCorrected: for each field that event changed, restore the value
 * it had just before. Order of checks: if the fields already hold those values there is nothing to
 * do (`[]`); otherwise, if a later event touched any field that would be overwritten, refuse with
 * RevertConflict rather than silently undo later work.
 */
function revert(command: RevertChange, state: AddressState): AddressEvent[] {
  const { addressId, version } = command.data;
  const current = requireExisting(state, addressId);
  const reason = requireReason(command.data.reason, command.type);
  requireKnownVersion(version, state);
  const { versionsOf, changes } = requireLookback(state);
  const type = typeOfVersion(versionsOf, version);
  if (type !== 'AddressChanged' && type !== 'AddressCorrected') throw new CannotRevert(version, type);
  // Fields exist from the first registration on: before it there is nothing to go back to.
  const firstRegistration = versionsOf.AddressRegistered[0]?.[0];
  if (firstRegistration === undefined || firstRegistration >= version) throw new CannotRevert(version, type);

  const restore: Record<string, string | null> = {};
  for (const name of ADDRESS_FIELDS) {
    const before = valueBefore(changes[name], version);
    switch (before.kind) {
      case 'unchanged':
        break;
      case 'value':
        restore[name] = before.value;
        break;
      case 'not kept':
        throw new Error(`the lookback no longer keeps ${name} before version ${version} (canDecide)`);
      default:
        assertNever(before);
    }
  }
  const fields = effectiveChanges(current, restore as AddressFieldChanges);
  if (isEmptyChanges(fields)) return [];

  const conflicts: RevertConflictDetail[] = [];
  for (const name of ADDRESS_FIELDS) {
    if (fields[name] === undefined) continue;
    const versions = versionsAfter(changes[name].versions, version);
    if (versions.length > 0) conflicts.push({ field: name, versions });
  }
  if (conflicts.length > 0) throw new RevertConflict(version, conflicts);

  return [
    {
      type: 'AddressCorrected',
      data: { addressId, corrects: version, fields, reason, revertOf: version },
      metadata: eventMetadata(command.metadata, reason),
    },
  ];
}

function archive(command: ArchiveAddress, state: AddressState): AddressEvent[] {
  const { addressId } = command.data;
  requireExisting(state, addressId);
  const reason = requireReason(command.data.reason, command.type);
  if (state.status === 'archived') return [];
  return [{ type: 'AddressArchived', data: { addressId, reason }, metadata: eventMetadata(command.metadata, reason) }];
}

function restore(command: RestoreAddress, state: AddressState): AddressEvent[] {
  const { addressId } = command.data;
  requireExisting(state, addressId);
  const reason = optionalReason(command.data.reason);
  if (state.status === 'active') return [];
  return [
    {
      type: 'AddressRestored',
      data: reason === undefined ? { addressId } : { addressId, reason },
      metadata: eventMetadata(command.metadata, reason),
    },
  ];
}

/**
 * The state a command is decided on when it needs more of the past than the current state: a
 * revert compares the version it undoes with the one before and with every later one, so it is
 * decided on a fold that keeps the lookback of every version (the command handler reads it from a
 * snapshot of its own kind, `addressLookbackSnapshots`, or from the whole stream). Every other
 * command, a correction of version N included (it checks only that N exists), is decided on the
 * current state: `undefined`, the ordinary snapshot plus the events after it.
 */
export function initialStateFor(command: AddressCommand): AddressState | undefined {
  return command.type === 'RevertChange' ? initialStateWithLookback() : undefined;
}

/**
 * Whether `state` has what deciding `command` reads: a lookback read from a snapshot keeps the
 * value before each field's last changes only, so for a revert of an older change the command
 * handler folds the whole stream instead (`revert` refuses such a state as a programming error
 * rather than restore a value it does not have).
 */
export function canDecide(command: AddressCommand, state: AddressState): boolean {
  if (command.type !== 'RevertChange' || !state.lookback) return true;
  const { changes } = state.lookback;
  return ADDRESS_FIELDS.every((name) => valueBefore(changes[name], command.data.version).kind !== 'not kept');
}

// --- helpers ---------------------------------------------------------------------------------

function requireExisting(state: AddressState, addressId: string): AddressFields {
  if (!state.exists || !state.fields) throw new AddressNotFound(addressId);
  if (state.addressId !== undefined && state.addressId !== addressId) {
    throw new AddressIdMismatch(addressId, state.addressId);
  }
  return state.fields;
}

/** A programming error, not a rule: the caller folded the state without `initialStateFor`. */
function requireLookback(state: AddressState): AddressLookback {
  const lookback = state.lookback;
  const versions = lookback
    ? ADDRESS_EVENT_TYPES.reduce((n, type) => n + countVersions(lookback.versionsOf[type]), 0)
    : -1;
  if (!lookback || versions !== state.version) {
    throw new Error('RevertChange is decided on a state folded with every version (initialStateFor)');
  }
  return lookback;
}

type ValueBefore =
  | { kind: 'unchanged' } // the version did not change the field
  | { kind: 'value'; value: string | null }
  | { kind: 'not kept' }; // it did, but the lookback (read from a snapshot) no longer keeps the value

/** What a field held just before `version` changed it (AddressFieldChangeLog). */
function valueBefore(log: AddressFieldChangeLog, version: number): ValueBefore {
  if (!hasVersion(log.versions, version)) return { kind: 'unchanged' };
  const kept = log.before.length - 1 - countAfter(log.versions, version);
  return kept < 0 ? { kind: 'not kept' } : { kind: 'value', value: log.before[kept] ?? null };
}

function typeOfVersion(versionsOf: AddressLookback['versionsOf'], version: number): AddressEventType {
  const type = ADDRESS_EVENT_TYPES.find((t) => hasVersion(versionsOf[t], version));
  // requireLookback counted one version per event, so only a lookback built by hand lacks one.
  if (type === undefined) throw new Error(`the lookback has no event at version ${version}`);
  return type;
}

function requireReason(reason: string | undefined, commandType: string): string {
  const cleaned = optionalReason(reason);
  if (cleaned === undefined) throw new ReasonRequired(commandType);
  return cleaned;
}

function optionalReason(reason: string | undefined): string | undefined {
  if (typeof reason !== 'string') return undefined;
  const trimmed = reason.trim();
  return trimmed === '' ? undefined : trimmed;
}

function requireKnownVersion(version: number, state: AddressState): void {
  if (!Number.isInteger(version) || version < 1 || version > state.version) {
    throw new UnknownVersion(version, state.version);
  }
}

/** Event metadata: the command's metadata (never its ids' absence turned into `undefined` keys) plus `reason`. */
export function eventMetadata(metadata: CommandMetadata, reason?: string): EventMetadata {
  const out: EventMetadata = {
    actor: { ...metadata.actor },
    commandId: metadata.commandId,
    correlationId: metadata.correlationId,
    source: metadata.source,
  };
  if (metadata.causationId !== undefined) out.causationId = metadata.causationId;
  if (reason !== undefined) out.reason = reason;
  return out;
}

// --- invariants (the zod boundary checks first and more thoroughly; these keep the stream sane) ---

const COUNTRY = /^[A-Z]{2}$/;

function addressIdIssues(addressId: unknown): InvalidFieldIssue[] {
  return typeof addressId === 'string' && addressId.trim() !== ''
    ? []
    : [{ field: 'addressId', message: 'is required' }];
}

function registrationIssues(fields: unknown): InvalidFieldIssue[] {
  if (typeof fields !== 'object' || fields === null) return [{ field: 'fields', message: 'are required' }];
  const record = fields as Record<string, unknown>;
  const issues: InvalidFieldIssue[] = [];
  for (const name of REQUIRED_FIELDS) {
    const value = record[name];
    if (typeof value !== 'string' || value.trim() === '') issues.push({ field: name, message: 'is required' });
  }
  issues.push(...countryIssues(record.country), ...optionalIssues(record));
  return dedupe(issues);
}

function assertValidChanges(changes: unknown, path: string): void {
  if (typeof changes !== 'object' || changes === null) {
    throw new InvalidAddress([{ field: path, message: 'must be an object of field values' }]);
  }
  const record = changes as Record<string, unknown>;
  const issues: InvalidFieldIssue[] = [];
  for (const name of REQUIRED_FIELDS) {
    const value = record[name];
    if (value === undefined) continue;
    if (value === null) issues.push({ field: name, message: 'is required and cannot be cleared' });
    else if (typeof value !== 'string' || value.trim() === '') issues.push({ field: name, message: 'cannot be blank' });
  }
  if (record.country !== undefined && record.country !== null) issues.push(...countryIssues(record.country));
  issues.push(...optionalIssues(record));
  if (issues.length > 0) throw new InvalidAddress(dedupe(issues));
}

function countryIssues(country: unknown): InvalidFieldIssue[] {
  return typeof country === 'string' && country.trim() !== '' && !COUNTRY.test(country)
    ? [{ field: 'country', message: 'must be an ISO 3166-1 alpha-2 code in upper case, such as US or DE' }]
    : [];
}

function optionalIssues(record: Record<string, unknown>): InvalidFieldIssue[] {
  const issues: InvalidFieldIssue[] = [];
  for (const name of OPTIONAL_FIELDS) {
    const value = record[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') issues.push({ field: name, message: 'must be text, or null to clear it' });
    else if (value.trim() === '') issues.push({ field: name, message: 'cannot be blank; use null to clear it' });
  }
  return issues;
}

function dedupe(issues: InvalidFieldIssue[]): InvalidFieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = issue.field;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
