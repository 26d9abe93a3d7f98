import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FormState } from '@/app/_lib/form-state';
import type { AddressFieldsInput } from '@/domain/address';
import { signIn } from '@/lib/auth/sign-in';
import { createUser } from '@/lib/auth/users';
import { ledger } from '@/lib/ledger';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { actionScope } from '@/test/server-actions';
import { changeAddress, correctAddress, registerAddress } from './actions';

/*
 * The address server actions against a real database, signed in as an operator: the conflict
 * screen's data, a correction that starts from the chosen version, the duplicate result, and the
 * postal code checked against the stored country.
 */

vi.mock('server-only', () => ({}));
vi.mock('next/cache', () => import('@/test/server-actions').then((m) => m.nextCache));
vi.mock('next/headers', () => import('@/test/server-actions').then((m) => m.nextHeaders));

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  const password = 'operator-password-actions';
  await createUser(t.prisma, { email: 'olga@actions.test', name: 'Olga', role: 'operator', password });
  const signedIn = await signIn(t.prisma, { email: 'olga@actions.test', password, ip: '127.0.0.1' });
  if (!signedIn.ok) throw new Error(signedIn.message);
  actionScope.cookie = signedIn.sealedSession;
});
afterAll(async () => t?.drop());

const IDLE: FormState = { status: 'idle' };
const actor = { id: 'someone-else', name: 'Sam Else', role: 'operator' as const };

function form(values: Record<string, string | number | null | undefined>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== null) f.set(k, String(v));
  return f;
}

async function address(fields: Partial<AddressFieldsInput> = {}) {
  const addressId = randomUUID();
  const all = {
    line1: '5 Elm Street',
    city: 'Portland',
    postalCode: '04101',
    country: 'US',
    owner: addressId,
    ...fields,
  };
  await ledger().handle({ type: 'RegisterAddress', data: { addressId, fields: all }, metadata: meta() });
  return { addressId, fields: all };
}

function meta() {
  const commandId = randomUUID();
  return { commandId, correlationId: commandId, actor, source: 'api' as const };
}

async function changeBySomeoneElse(addressId: string, changes: Record<string, string>) {
  await ledger().handle({
    type: 'ChangeAddress',
    data: { addressId, changes, reason: 'their reason' },
    metadata: meta(),
  });
}

describe('a change decided on an old version', () => {
  it('answers with the events since, and the field-by-field merge with the operator’s edit', async () => {
    const { addressId, fields } = await address();
    await changeBySomeoneElse(addressId, { city: 'South Portland', line1: '7 Elm Street' });
    const result = await changeAddress(
      IDLE,
      form({
        ...fields,
        addressId,
        expectedVersion: 1,
        token: randomUUID(),
        postalCode: '04106',
        line1: '9 Elm Street',
      }),
    );
    expect(result.status).toBe('conflict');
    expect(result.conflict).toMatchObject({ baseVersion: 1, currentVersion: 2 });
    expect(result.conflict?.events).toEqual([
      expect.objectContaining({
        version: 2,
        what: 'Changed',
        actor: 'Sam Else',
        reason: 'their reason',
        changes: [
          { field: 'line1', label: 'Street address', before: '5 Elm Street', after: '7 Elm Street' },
          { field: 'city', label: 'City / town', before: 'Portland', after: 'South Portland' },
        ],
      }),
    ]);
    const outcomes = Object.fromEntries(
      (result.conflict?.fields ?? []).filter((f) => f.outcome !== 'unchanged').map((f) => [f.field, f]),
    );
    expect(outcomes).toMatchObject({
      line1: { outcome: 'conflict', base: '5 Elm Street', theirs: '7 Elm Street', mine: '9 Elm Street', merged: null },
      city: { outcome: 'theirs', merged: 'South Portland' },
      postalCode: { outcome: 'mine', merged: '04106' },
    });
    expect(result.values).toMatchObject({ postalCode: '04106', line1: '9 Elm Street' });
    expect(await ledger().store.streamVersion(`address-${addressId}`)).toBe(2);

    // The screen re-submits only the operator's fields, at the new version, with a new token.
    const again = await changeAddress(
      IDLE,
      form({
        addressId,
        expectedVersion: 2,
        token: result.conflict!.token,
        postalCode: '04106',
        line1: '9 Elm Street',
      }),
    );
    expect(again).toMatchObject({ status: 'ok', version: 3 });
    const { state } = await ledger().loadAddress(addressId);
    expect(state.fields).toMatchObject({ line1: '9 Elm Street', city: 'South Portland', postalCode: '04106' });
  });
});

describe('a correction', () => {
  it('is the fields that differ from what the chosen version recorded, not from the current ones', async () => {
    const { addressId, fields } = await address({ line1: '1 Oak Stret' });
    await changeBySomeoneElse(addressId, { city: 'Westbrook' });
    // The form showed what version 1 recorded (city Portland) and fixed the street only.
    const result = await correctAddress(
      IDLE,
      form({
        ...fields,
        line1: '1 Oak Street',
        addressId,
        expectedVersion: 2,
        corrects: 1,
        reason: 'typo',
        token: randomUUID(),
      }),
    );
    expect(result).toMatchObject({ status: 'ok', version: 3 });
    const { events, state } = await ledger().loadAddress(addressId);
    expect(events.at(-1)?.data).toMatchObject({ corrects: 1, fields: { line1: '1 Oak Street' } });
    expect(state.fields?.city).toBe('Westbrook');
  });

  it('checks a postal code against the country the address keeps', async () => {
    const { addressId, fields } = await address({ line1: '3 Oak Street' });
    const result = await correctAddress(
      IDLE,
      form({
        ...fields,
        postalCode: 'SW1A 1AA',
        addressId,
        expectedVersion: 1,
        corrects: 1,
        reason: 'x',
        token: randomUUID(),
      }),
    );
    expect(result.status).toBe('invalid');
    expect(result.errors?.postalCode).toEqual(['Postal code SW1A 1AA is not valid for US.']);
  });
});

describe('registering an address that exists', () => {
  it('names the existing address instead of failing', async () => {
    const { addressId, fields } = await address({ line1: '11 Pine Street' });
    const result = await registerAddress(
      IDLE,
      form({
        ...fields,
        line1: ' 11 PINE  street',
        owner: String(fields.owner).toUpperCase(),
        line2: '',
        region: '',
        token: randomUUID(),
      }),
    );
    expect(result).toMatchObject({
      status: 'duplicate',
      existing: { addressId, summary: '11 Pine Street, Portland' },
    });
  });
});
