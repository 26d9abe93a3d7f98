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
