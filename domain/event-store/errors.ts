/** Typed failures of the event store; `app/` maps them to the documented HTTP error shape. */

export class VersionConflictError extends Error {
  readonly code = 'version_conflict';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`stream ${streamId} is at version ${actualVersion}, not the expected ${expectedVersion}`);
    this.name = 'VersionConflictError';
  }
}

/** The same commandId / Idempotency-Key was sent before with a different request. */
export class IdempotencyKeyReusedError extends Error {
  readonly code = 'idempotency_key_reused';
  constructor(readonly commandId: string) {
    super('this Idempotency-Key was already used for a different request; use a new key for a new request');
    this.name = 'IdempotencyKeyReusedError';
  }
}

export class InvalidCursorError extends Error {
  readonly code = 'invalid_cursor';
  constructor(readonly cursor: string) {
    super('cursor is not one this server issued (expected the `next` value of a previous page)');
    this.name = 'InvalidCursorError';
  }
}

/**
 * The append would give an address the normalised key (line 1, line 2, postal code, country,
 * owner) of another active address; the database refused it in the same statement as the append
 * (the `address_keys` reservation, prisma/migrations/*_address_keys), so nothing was written.
 */
export class DuplicateAddressError extends Error {
  readonly code = 'duplicate_address';
  constructor(
    readonly streamId: string,
    /** The stream of the active address that holds the key. */
    readonly existingStreamId: string,
  ) {
    super(`an active address with the same normalised fields already exists (${existingStreamId})`);
    this.name = 'DuplicateAddressError';
  }
}
