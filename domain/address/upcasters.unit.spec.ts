import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../messages';
import { CURRENT_SCHEMA_VERSIONS } from './events';
import { replay } from './replay';
import { ADDRESS_ID } from './testing';
import { UpcastError, upcast, upcastRecorded } from './upcasters';

const v1Data = {
  addressId: ADDRESS_ID,
  street: '12 Main Street',
  street2: 'Apt 4',
  city: 'Springfield',
  state: 'IL',
  zip: '62701',
  countryCode: 'us',
  owner: 'ACME Corp',
};

describe('upcast', () => {
  it('maps AddressRegistered version 1 to the current shape', () => {
    expect(upcast({ type: 'AddressRegistered', schemaVersion: 1, data: v1Data })).toEqual({
      type: 'AddressRegistered',
      schemaVersion: 2,
      data: {
        addressId: ADDRESS_ID,
        line1: '12 Main Street',
        line2: 'Apt 4',
        city: 'Springfield',
        region: 'IL',
        postalCode: '62701',
        country: 'US',
        owner: 'ACME Corp',
      },
    });
  });

  it('leaves out optional version 1 fields that were missing, null or empty', () => {
    const { data } = upcast({
      type: 'AddressRegistered',
      schemaVersion: 1,
      data: {
        addressId: ADDRESS_ID,
        street: '1 A St',
        street2: null,
        state: '',
        city: 'X',
        zip: '1',
        countryCode: 'DE',
      },
    });
    expect(data).toEqual({ addressId: ADDRESS_ID, line1: '1 A St', city: 'X', postalCode: '1', country: 'DE' });
  });

  it('returns events already at the current version unchanged', () => {
    const raw = { type: 'AddressChanged', schemaVersion: 1, data: { addressId: ADDRESS_ID, changes: { city: 'X' } } };
    expect(upcast(raw)).toEqual(raw);
    const current = { type: 'AddressRegistered', schemaVersion: 2, data: { addressId: ADDRESS_ID, line1: 'x' } };
    expect(upcast(current)).toEqual(current);
  });

  it('refuses a version newer than this code knows, with a clear message', () => {
    expect(() => upcast({ type: 'AddressRegistered', schemaVersion: 3, data: {} })).toThrow(
      /AddressRegistered schemaVersion 3 is newer than this code understands \(current is 2\)/,
    );
    expect(() => upcast({ type: 'AddressArchived', schemaVersion: 2, data: {} })).toThrow(UpcastError);
  });

  it('refuses an invalid version', () => {
    expect(() => upcast({ type: 'AddressChanged', schemaVersion: 0, data: {} })).toThrow(/invalid schemaVersion 0/);
  });

  it('refuses a version 1 registration that lacks a required field', () => {
    expect(() => upcast({ type: 'AddressRegistered', schemaVersion: 1, data: { ...v1Data, zip: undefined } })).toThrow(
      /"zip" is missing/,
    );
  });

  it('passes events of other aggregates through untouched', () => {
    const raw = { type: 'UserCreated', schemaVersion: 7, data: { a: 1 } };
    expect(upcast(raw)).toBe(raw);
  });

  it('has a current version for every event type', () => {
    expect(CURRENT_SCHEMA_VERSIONS).toEqual({
      AddressRegistered: 2,
      AddressChanged: 1,
      AddressCorrected: 1,
      AddressArchived: 1,
      AddressRestored: 1,
    });
  });
});

describe('upcastRecorded', () => {
  const recorded: RecordedEvent = {
    type: 'AddressRegistered',
    data: v1Data,
    metadata: {
      actor: { id: 'u', name: 'U', role: 'admin' },
      commandId: 'c',
      correlationId: 'c',
      source: 'import',
      recordedAt: '2020-01-01T00:00:00Z',
    },
    eventId: 'e',
    streamId: `address-${ADDRESS_ID}`,
    streamVersion: 1,
    position: '1',
    schemaVersion: 1,
    recordedAt: '2020-01-01T00:00:00Z',
  };

  it('keeps the envelope and replaces data and schemaVersion, so old streams replay', () => {
    const event = upcastRecorded(recorded);
    expect(event.schemaVersion).toBe(2);
    expect(event.eventId).toBe('e');
    expect(replay([event]).fields).toEqual({
      line1: '12 Main Street',
      line2: 'Apt 4',
      city: 'Springfield',
      region: 'IL',
      postalCode: '62701',
      country: 'US',
      owner: 'ACME Corp',
    });
  });

  it('refuses an event that is not an address event', () => {
    expect(() => upcastRecorded({ ...recorded, type: 'UserCreated' })).toThrow(/unknown address event type/);
  });
});
