import { describe, expect, it } from 'vitest';
import { decide } from './decide';
import {
  AddressAlreadyRegistered,
  AddressArchivedError,
  AddressIdMismatch,
  AddressNotFound,
  CannotRevert,
  DomainError,
  InvalidAddress,
  ReasonRequired,
  RevertConflict,
  UnknownVersion,
} from './errors';
import { evolveAll } from './evolve';
import { addressDecider } from './index';
import { replay, replayWithHistory, replayWithLookback } from './replay';
import {
  ADDRESS_ID,
  archiveAddress,
  archived,
  changeAddress,
  changed,
  correctAddress,
  corrected,
  given,
  registerAddress,
  registered,
  restoreAddress,
  restored,
  revertChange,
  reverted,
  testMetadata,
  usFields,
} from './testing';

const OTHER_ID = '9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f';

describe('RegisterAddress', () => {
  it('registers a new address on an empty stream', () => {
    given([])
      .when(registerAddress(usFields))
      .then([registered(usFields)]);
  });

  it('copies the command metadata onto the event, including the causation id', () => {
    const metadata = { ...testMetadata, causationId: 'cause-1', source: 'api' as const };
    const [event] = addressDecider.decide({ ...registerAddress(), metadata }, addressDecider.initialState());
    expect(event?.metadata).toEqual({
      actor: testMetadata.actor,
      commandId: 'cmd-1',
      correlationId: 'corr-1',
      causationId: 'cause-1',
      source: 'api',
    });
  });

  it('drops optional fields given as null instead of storing them', () => {
    given([])
      .when(registerAddress({ ...usFields, line2: null, owner: null }))
      .then([registered(usFields)]);
  });

  it('refuses to register an address that already exists', () => {
    given([registered()]).when(registerAddress()).thenThrows(AddressAlreadyRegistered);
  });

  it('refuses to register again even after the address was archived', () => {
    given([registered(), archived()]).when(registerAddress()).thenThrows(AddressAlreadyRegistered);
  });

  it('refuses blank required fields and names each of them', () => {
    const error = given([])
      .when(registerAddress({ ...usFields, line1: '  ', city: '' }))
      .thenThrows(InvalidAddress);
    expect(error.issues.map((i) => i.field)).toEqual(['line1', 'city']);
    expect(error.code).toBe('invalid_address');
  });

  it('refuses a country that is not an upper-case alpha-2 code', () => {
    given([])
      .when(registerAddress({ ...usFields, country: 'usa' }))
      .thenThrows(InvalidAddress, /country must be an ISO 3166-1 alpha-2 code/);
  });

  it('refuses a blank optional field, because null is the way to say "not set"', () => {
    given([])
      .when(registerAddress({ ...usFields, line2: ' ' }))
      .thenThrows(InvalidAddress, /line2 cannot be blank/);
  });
});

describe('ChangeAddress', () => {
  it('records only the fields whose values actually change', () => {
    given([registered()])
      .when(changeAddress({ line1: '99 Elm Street', city: 'Springfield', postalCode: '62704' }))
      .then([changed({ line1: '99 Elm Street', postalCode: '62704' })]);
  });

  it('carries the optional reason in the event metadata', () => {
    given([registered()])
      .when(changeAddress({ city: 'Chicago' }, '  moved north  '))
      .then([changed({ city: 'Chicago' }, 'moved north')]);
  });

  it('clears an optional field when its new value is null', () => {
    given([registered()])
      .when(changeAddress({ region: null }))
      .then([changed({ region: null })]);
  });

  it('sets an optional field that was not set before', () => {
    given([registered()])
      .when(changeAddress({ line2: 'Apt 4' }))
      .then([changed({ line2: 'Apt 4' })]);
  });

  it('returns no events when nothing would change', () => {
    given([registered()])
      .when(changeAddress({ city: 'Springfield', region: 'IL' }))
      .then([]);
  });

  it('returns no events when clearing a field that is already empty', () => {
    given([registered()])
      .when(changeAddress({ line2: null, owner: null }))
      .then([]);
  });

  it('returns no events for an empty set of changes', () => {
    given([registered()]).when(changeAddress({})).then([]);
  });

  it('refuses to change an address that does not exist', () => {
    given([])
      .when(changeAddress({ city: 'Chicago' }))
      .thenThrows(AddressNotFound);
  });

  it('refuses to change an archived address', () => {
    const error = given([registered(), archived()])
      .when(changeAddress({ city: 'Chicago' }))
      .thenThrows(AddressArchivedError);
    expect(error.code).toBe('address_archived');
    expect(error).toBeInstanceOf(DomainError);
  });

  it('accepts changes again once the address is restored', () => {
    given([registered(), archived(), restored()])
      .when(changeAddress({ city: 'Chicago' }))
      .then([changed({ city: 'Chicago' })]);
  });

  it('refuses to clear a required field', () => {
    given([registered()])
      // @ts-expect-error required fields cannot be null, and the domain checks it at run time too
      .when(changeAddress({ city: null }))
      .thenThrows(InvalidAddress, /city is required and cannot be cleared/);
  });

  it('refuses a command addressed to another address than the stream holds', () => {
    given([registered()])
      .when(changeAddress({ city: 'Chicago' }, undefined, OTHER_ID))
      .thenThrows(AddressIdMismatch);
  });
});

describe('CorrectAddress', () => {
  it('records a correction of an earlier version with its reason', () => {
    given([registered()])
      .when(correctAddress(1, { postalCode: '62702' }, 'digits swapped'))
      .then([corrected(1, { postalCode: '62702' }, 'digits swapped')]);
  });

  it('keeps only the corrected fields that differ from the current values', () => {
    given([registered(), changed({ city: 'Chicago' })])
      .when(correctAddress(2, { city: 'Chicago', postalCode: '60601' }))
      .then([corrected(2, { postalCode: '60601' })]);
  });

  it('requires a reason', () => {
    given([registered()])
      .when(correctAddress(1, { city: 'Chicago' }, ''))
      .thenThrows(ReasonRequired);
  });

  it('treats a reason of only spaces as missing', () => {
    given([registered()])
      .when(correctAddress(1, { city: 'Chicago' }, '   '))
      .thenThrows(ReasonRequired);
  });

  it('refuses a version after the current one', () => {
    given([registered()])
      .when(correctAddress(2, { city: 'Chicago' }))
      .thenThrows(UnknownVersion, /from 1 to 1/);
  });

  it('refuses version 0 and fractional versions', () => {
    given([registered()])
      .when(correctAddress(0, { city: 'Chicago' }))
      .thenThrows(UnknownVersion);
    given([registered()])
      .when(correctAddress(1.5, { city: 'Chicago' }))
      .thenThrows(UnknownVersion);
  });

  it('returns no events when the corrected values are already the current ones', () => {
    given([registered()])
      .when(correctAddress(1, { city: 'Springfield', region: 'IL' }))
      .then([]);
  });

  it('is allowed on an archived address and leaves it archived', () => {
    const g = given([registered(), archived()]);
    g.when(correctAddress(1, { postalCode: '62702' })).then([corrected(1, { postalCode: '62702' })]);
    const [event] = addressDecider.decide(correctAddress(1, { postalCode: '62702' }), g.state);
    expect(addressDecider.evolve(g.state, event!).status).toBe('archived');
  });

  it('refuses to correct an address that does not exist', () => {
    given([])
      .when(correctAddress(1, { city: 'Chicago' }))
      .thenThrows(AddressNotFound);
  });
});

describe('RevertChange', () => {
  it('restores the values each field had before the reverted change', () => {
    given([registered(), changed({ line1: '99 Elm Street', region: null })])
      .when(revertChange(2))
      .then([reverted(2, { line1: '12 Main Street', region: 'IL' })]);
  });

  it('reverts a correction too', () => {
    given([registered(), corrected(1, { postalCode: '62702' })])
      .when(revertChange(2))
      .then([reverted(2, { postalCode: '62701' })]);
  });

  it('can revert a revert, which redoes the original change', () => {
    given([registered(), changed({ city: 'Chicago' }), reverted(2, { city: 'Springfield' })])
      .when(revertChange(3))
      .then([reverted(3, { city: 'Chicago' })]);
  });

  it('requires a reason', () => {
    given([registered(), changed({ city: 'Chicago' })])
      .when(revertChange(2, ' '))
      .thenThrows(ReasonRequired);
  });

  it('refuses to revert the registration and says to archive instead', () => {
    given([registered()])
      .when(revertChange(1))
      .thenThrows(CannotRevert, /archive the address instead/);
  });

  it('refuses to revert an archive and says to restore instead', () => {
    given([registered(), archived()])
      .when(revertChange(2))
      .thenThrows(CannotRevert, /restore the address instead/);
  });

  it('refuses to revert a restore and says to archive instead', () => {
    given([registered(), archived(), restored()])
      .when(revertChange(3))
      .thenThrows(CannotRevert, /archive the address instead/);
  });

  it('refuses a version the stream does not have', () => {
    given([registered(), changed({ city: 'Chicago' })])
      .when(revertChange(3))
      .thenThrows(UnknownVersion);
  });

  it('refuses when a later event changed the same field, naming the field and the versions', () => {
    const error = given([
      registered(),
      changed({ city: 'Chicago', postalCode: '60601' }),
      changed({ line1: '1 Lake Shore Drive' }),
      corrected(2, { postalCode: '60602' }),
    ])
      .when(revertChange(2))
      .thenThrows(RevertConflict, /postalCode \(changed again in version 4\)/);
    expect(error.conflicts).toEqual([{ field: 'postalCode', versions: [4] }]);
    expect(error.code).toBe('revert_conflict');
  });

  it('does not count later changes to other fields as a conflict', () => {
    given([registered(), changed({ city: 'Chicago' }), changed({ line1: '1 Lake Shore Drive' })])
      .when(revertChange(2))
      .then([reverted(2, { city: 'Springfield' })]);
  });

  it('returns no events when the fields already hold the values from before the change', () => {
    given([registered(), changed({ city: 'Chicago' }), reverted(2, { city: 'Springfield' })])
      .when(revertChange(2))
      .then([]);
  });

  it('is allowed on an archived address, like any correction', () => {
    given([registered(), changed({ city: 'Chicago' }), archived()])
      .when(revertChange(2))
      .then([reverted(2, { city: 'Springfield' })]);
  });

  it('refuses to revert on an address that does not exist', () => {
    given([]).when(revertChange(1)).thenThrows(AddressNotFound);
  });
});

describe('ArchiveAddress', () => {
  it('archives an active address with its reason', () => {
    given([registered()])
      .when(archiveAddress('demolished'))
      .then([archived('demolished')]);
  });

  it('requires a reason', () => {
    given([registered()])
      .when(archiveAddress(''))
      .thenThrows(ReasonRequired, /ArchiveAddress/);
  });

  it('returns no events when the address is already archived', () => {
    given([registered(), archived()]).when(archiveAddress('again')).then([]);
  });

  it('refuses to archive an address that does not exist', () => {
    given([]).when(archiveAddress()).thenThrows(AddressNotFound);
  });
});

describe('RestoreAddress', () => {
  it('restores an archived address', () => {
    given([registered(), archived()]).when(restoreAddress()).then([restored()]);
  });

  it('carries an optional reason in the event and its metadata', () => {
    given([registered(), archived()])
      .when(restoreAddress('archived by mistake'))
      .then([restored('archived by mistake')]);
  });

  it('returns no events when the address is already active', () => {
    given([registered()]).when(restoreAddress()).then([]);
  });

  it('refuses to restore an address that does not exist', () => {
    given([]).when(restoreAddress()).thenThrows(AddressNotFound);
  });
});

describe('the decider', () => {
  it('starts from a state with no address at version 0', () => {
    expect(addressDecider.initialState()).toEqual({
      exists: false,
      status: 'active',
      fields: null,
      version: 0,
    });
  });

  it('decides a revert on a fold that keeps the lookback of every version, and every other command on the current state', () => {
    expect(addressDecider.initialStateFor?.(revertChange(2))).toEqual(replayWithLookback([]));
    expect(replayWithLookback([]).lookback.versionsOf.AddressChanged).toEqual([]);
    for (const command of [registerAddress(), changeAddress({ city: 'X' }), correctAddress(1, { city: 'X' })]) {
      expect(addressDecider.initialStateFor?.(command)).toBeUndefined();
    }
  });

  it('refuses, as a programming error, a revert decided on a state without its lookback', () => {
    const events = [registered(), changed({ city: 'Chicago' })];
    expect(() => decide(revertChange(2), replay(events))).toThrow(/folded with every version/);
    // Every version's fields are the timeline's, not what a revert is decided on.
    expect(() => decide(revertChange(2), replayWithHistory(events))).toThrow(/folded with every version/);
    // A lookback that missed events (folded from a state that had none) is refused as well.
    const late = evolveAll(
      { ...replay(events.slice(0, 1)), lookback: replayWithLookback([]).lookback },
      events.slice(1),
    );
    expect(() => decide(revertChange(2), late)).toThrow(/folded with every version/);
    expect(decide(revertChange(2), replayWithLookback(events))).toHaveLength(1);
  });

  it('gives every domain error a stable code', () => {
    const error = given([])
      .when(changeAddress({ city: 'X' }))
      .thenThrows(AddressNotFound);
    expect(error.code).toBe('address_not_found');
    expect(error.details).toEqual({ addressId: ADDRESS_ID });
    expect(error.name).toBe('AddressNotFound');
  });
});
