import type { AddressFieldName } from './fields';

/**
 * Base of every business-rule violation. `code` is stable (the API maps it to HTTP and clients may
 * switch on it); `details` carries machine-readable context. Never thrown for infrastructure faults.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    if (details) this.details = details;
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

export class AddressAlreadyRegistered extends DomainError {
  readonly code = 'address_already_registered';
  constructor(addressId: string) {
    super(`address ${addressId} is already registered`, { addressId });
  }
}

export class AddressNotFound extends DomainError {
  readonly code = 'address_not_found';
  constructor(addressId: string) {
    super(`address ${addressId} does not exist`, { addressId });
  }
}

export class AddressArchivedError extends DomainError {
  readonly code = 'address_archived';
  constructor(addressId: string) {
    super(`address ${addressId} is archived; restore it before changing it`, { addressId });
  }
}

export class ReasonRequired extends DomainError {
  readonly code = 'reason_required';
  constructor(commandType: string) {
    super(`a reason is required for ${commandType}`, { commandType });
  }
}

export class UnknownVersion extends DomainError {
  readonly code = 'unknown_version';
  constructor(version: number, currentVersion: number) {
    super(
      currentVersion === 0
        ? `version ${version} does not exist: the stream has no events`
        : `version ${version} does not exist: expected a whole number from 1 to ${currentVersion}`,
      { version, currentVersion },
    );
  }
}

export class CannotRevert extends DomainError {
  readonly code = 'cannot_revert';
  constructor(version: number, eventType: string) {
    const hint =
      eventType === 'AddressRegistered'
        ? 'a registration cannot be reverted; archive the address instead'
        : eventType === 'AddressArchived'
          ? 'an archive cannot be reverted; restore the address instead'
          : eventType === 'AddressRestored'
            ? 'a restore cannot be reverted; archive the address instead'
            : 'only changes and corrections can be reverted';
    super(`version ${version} (${eventType}) cannot be reverted: ${hint}`, { version, eventType });
  }
}

export interface RevertConflictDetail {
  field: AddressFieldName;
  /** The later versions that changed this field after the reverted one. */
  versions: number[];
}

export class RevertConflict extends DomainError {
  readonly code = 'revert_conflict';
  readonly conflicts: readonly RevertConflictDetail[];
  constructor(version: number, conflicts: RevertConflictDetail[]) {
    const list = conflicts.map((c) => `${c.field} (changed again in version ${c.versions.join(', ')})`).join('; ');
    super(`cannot revert version ${version}: later events changed the same fields: ${list}`, { version, conflicts });
    this.conflicts = conflicts;
  }
}

export interface InvalidFieldIssue {
  field: string;
  message: string;
}

/** Fields that break the aggregate's invariants (the boundary validates first; this is the last guard). */
export class InvalidAddress extends DomainError {
  readonly code = 'invalid_address';
  readonly issues: readonly InvalidFieldIssue[];
  constructor(issues: InvalidFieldIssue[]) {
    super(`invalid address: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`, { issues });
    this.issues = issues;
  }
}

/** The command names a different address than the stream it was decided against (a caller bug). */
export class AddressIdMismatch extends DomainError {
  readonly code = 'address_id_mismatch';
  constructor(commandAddressId: string, streamAddressId: string) {
    super(`command is for address ${commandAddressId} but the stream holds address ${streamAddressId}`, {
      commandAddressId,
      streamAddressId,
    });
  }
}
