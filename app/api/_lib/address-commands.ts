import { randomUUID } from 'node:crypto';
import type { AddressState } from '@/domain/address';
import { type AddressCommand, addressIdFromStream, isAddressId } from '@/domain/address';
import { hashRequest } from '@/domain/command-handler';
import type { Actor, CommandMetadata } from '@/domain/messages';
import { ledger } from '@/lib/ledger';
import { HttpError, json, validationFailed } from './http';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * Command metadata for an HTTP request. The Idempotency-Key is scoped to the actor, so two
 * clients that happen to pick the same key never see each other's results.
 */
export function commandMetadata(request: Request, actor: Actor): CommandMetadata {
  const key = request.headers.get('idempotency-key');
  if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
    throw validationFailed([
      { path: 'Idempotency-Key', message: 'must be 1 to 200 visible ASCII characters (a UUID is a good choice)' },
    ]);
  }
  const commandId = key ? `idem:${actor.id}:${key}` : randomUUID();
  const correlation = request.headers.get('x-correlation-id');
  return {
    commandId,
    correlationId: correlation && IDEMPOTENCY_KEY.test(correlation) ? correlation : commandId,
    actor,
    source: 'api',
  };
}

/** Path ids are UUIDs; anything else cannot name an address, so it is simply not found. */
export function addressIdParam(id: string): string {
  if (!isAddressId(id)) {
    throw new HttpError(404, 'not_found', `no address with id ${JSON.stringify(id.slice(0, 64))}`);
  }
  return id.toLowerCase();
}

/**
 * Sends one command through the handler and shapes the documented success body. The request hash
 * covers method, path and body, so the same Idempotency-Key on a different request is refused.
 */
export async function dispatch(
  request: Request,
  command: AddressCommand,
  options: { expectedVersion?: number; body: unknown; status?: number; check?: (state: AddressState) => void },
): Promise<Response> {
  const url = new URL(request.url);
  const result = await ledger().handle(command, {
    expectedVersion: options.expectedVersion,
    check: options.check,
    requestHash: hashRequest({ method: request.method, path: url.pathname, body: options.body }),
  });
  return json(
    // A replayed registration answers with the id it created first, not this request's new one.
    {
      id: addressIdFromStream(result.streamId),
      version: result.version,
      position: result.position,
      replayed: result.replayed,
    },
    { status: options.status ?? 200, headers: result.replayed ? { 'idempotent-replayed': 'true' } : {} },
  );
}
