import type { RecordedEvent } from '../messages';
import {
  type AddressEvent,
  type AddressEventDataMap,
  type AddressEventType,
  type AddressRegisteredData,
  CURRENT_SCHEMA_VERSIONS,
  isAddressEventType,
} from './events';

/**
 * Upcasters: stored events are never rewritten, so old shapes are translated on read. The store
 * reader calls `upcast` (or `upcastRecorded`) on every address event before `evolve`.
 *
 * `UPCASTERS[type][n]` turns schema version `n` into `n + 1`; `upcast` chains them up to
 * `CURRENT_SCHEMA_VERSIONS[type]`. To change an event's shape: bump its current version, add the
 * step from the previous version here, and add a test with a literal old payload.
 */

export interface RawEvent {
  type: string;
  schemaVersion: number;
  data: unknown;
}

export type UpcastedEvent = {
  [K in AddressEventType]: { type: K; schemaVersion: number; data: AddressEventDataMap[K] };
}[AddressEventType];

/** Stored data this code cannot read (unknown type, future or invalid version, malformed old shape). */
export class UpcastError extends Error {
  readonly code = 'upcast_failed';
  constructor(message: string) {
    super(message);
    this.name = 'UpcastError';
  }
}

type UpcastStep = (data: unknown) => unknown;

/** AddressRegistered v1 (before the field names were aligned with the domain language). */
export interface AddressRegisteredV1 {
  addressId: string;
  street: string;
  street2?: string | null;
  city: string;
  state?: string | null;
  zip: string;
  countryCode: string;
  owner?: string | null;
}

export function addressRegisteredV1ToV2(data: unknown): AddressRegisteredData {
  const v1 = asRecord(data, 'AddressRegistered', 1);
  const required = (key: keyof AddressRegisteredV1): string => {
    const value = v1[key];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new UpcastError(`AddressRegistered schemaVersion 1: "${key}" is missing or not text`);
    }
    return value;
  };
  const optional = (key: keyof AddressRegisteredV1): string | undefined => {
    const value = v1[key];
    return typeof value === 'string' && value.trim() !== '' ? value : undefined;
  };
  const out: AddressRegisteredData = {
    addressId: required('addressId'),
    line1: required('street'),
    city: required('city'),
    postalCode: required('zip'),
    country: required('countryCode').trim().toUpperCase(),
  };
  const line2 = optional('street2');
  const region = optional('state');
  const owner = optional('owner');
  if (line2 !== undefined) out.line2 = line2;
  if (region !== undefined) out.region = region;
  if (owner !== undefined) out.owner = owner;
  return out;
}

export const UPCASTERS: { readonly [K in AddressEventType]: Readonly<Record<number, UpcastStep>> } = {
  AddressRegistered: { 1: addressRegisteredV1ToV2 },
  AddressChanged: {},
  AddressCorrected: {},
  AddressArchived: {},
  AddressRestored: {},
};

/**
 * Brings a stored address event to its current schema version. Pure; throws `UpcastError` for a
 * version that is invalid, newer than this code knows, or has no upcaster. Events of other types
 * (not address events) pass through unchanged, so a store-wide reader can use it as its upcaster.
 */
export function upcast(raw: RawEvent & { type: AddressEventType }): UpcastedEvent;
export function upcast(raw: RawEvent): RawEvent;
export function upcast(raw: RawEvent): RawEvent {
  const { type, schemaVersion } = raw;
  if (!isAddressEventType(type)) return raw;
  const current = CURRENT_SCHEMA_VERSIONS[type];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new UpcastError(`${type}: invalid schemaVersion ${String(schemaVersion)}; expected a whole number >= 1`);
  }
  if (schemaVersion > current) {
    throw new UpcastError(
      `${type} schemaVersion ${schemaVersion} is newer than this code understands (current is ${current}); ` +
        'deploy the newer application version before reading this stream',
    );
  }
  let data = raw.data;
  for (let version = schemaVersion; version < current; version++) {
    const step = UPCASTERS[type][version];
    if (!step) throw new UpcastError(`${type}: no upcaster from schemaVersion ${version} to ${version + 1}`);
    data = step(data);
  }
  return { type, schemaVersion: current, data };
}

/**
 * `upcast` for a whole stored address event: the envelope is kept, `data` and `schemaVersion` are
 * replaced. Unlike `upcast`, throws `UpcastError` for an event that is not an address event.
 */
export function upcastRecorded(event: RecordedEvent): RecordedEvent<AddressEvent> {
  if (!isAddressEventType(event.type)) throw new UpcastError(`unknown address event type "${event.type}"`);
  const { type, schemaVersion, data } = upcast(event);
  return { ...event, type, schemaVersion, data } as RecordedEvent<AddressEvent>;
}

function asRecord(data: unknown, type: string, version: number): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UpcastError(`${type} schemaVersion ${version}: data must be an object`);
  }
  return data as Record<string, unknown>;
}
