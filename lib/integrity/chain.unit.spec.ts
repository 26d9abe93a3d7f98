import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  byPosition,
  type ChainedEvent,
  canonicalEventBytes,
  checkSeals,
  checkStreamStep,
  eventHash,
  keyFingerprint,
  nextDigest,
  type Problem,
  publicKeyText,
  type SealRow,
  sealSignatureValid,
  signSeal,
  ZERO_DIGEST,
} from './chain';

const base = {
  eventId: '0b9a3c1e-8f7d-4c2b-9e6a-1d2c3b4a5f60',
  streamId: 'address-1',
  streamVersion: 1,
  type: 'AddressRegistered',
  schemaVersion: 2,
  dataText: '{"city": "Köln"}',
  metadataText: '{}',
  recordedAtMicros: '1764576000123456',
};

function chained(prev: ChainedEvent | null, overrides: Partial<ChainedEvent> = {}): ChainedEvent {
  const e = { ...base, position: '1', hash: Buffer.alloc(0), ...overrides };
  return { ...e, hash: overrides.hash ?? eventHash(prev?.hash ?? null, e) };
}

describe('the canonical encoding of an event', () => {
  it('is the netstrings of its fields, with lengths in UTF-8 bytes', () => {
    const prev = Buffer.alloc(32, 0xab);
    expect(canonicalEventBytes(prev, base).toString('utf8')).toBe(
      `ledger-event-v1,64:${'ab'.repeat(32)},36:0b9a3c1e-8f7d-4c2b-9e6a-1d2c3b4a5f60,9:address-1,1:1,` +
        // "Köln": ö is two bytes, so the data text of 16 characters is 17 bytes.
        '17:AddressRegistered,1:2,17:{"city": "Köln"},2:{},16:1764576000123456,',
    );
    expect(canonicalEventBytes(null, base).toString('utf8')).toMatch(/^ledger-event-v1,0:,36:/);
  });

  it('gives another hash when any field changes, and cannot be confused by moving text between fields', () => {
    const original = eventHash(null, base).toString('hex');
    const variants = [
      { eventId: '0b9a3c1e-8f7d-4c2b-9e6a-1d2c3b4a5f61' },
      { streamId: 'address-2' },
      { streamVersion: 2 },
      { type: 'AddressChanged' },
      { schemaVersion: 1 },
      { dataText: '{"city": "Koln"}' },
      { metadataText: '{"a": 1}' },
      // One microsecond: the precision timestamptz keeps.
      { recordedAtMicros: '1764576000123457' },
      // The same characters in total, split differently between two fields.
      { type: 'AddressRegistered2', schemaVersion: 2, streamVersion: 1, dataText: base.dataText },
    ];
    const hashes = variants.map((v) => eventHash(null, { ...base, ...v }).toString('hex'));
    expect(new Set([original, ...hashes]).size).toBe(variants.length + 1);
    expect(eventHash(null, { ...base, streamId: 'ab', type: 'c' })).not.toEqual(
      eventHash(null, { ...base, streamId: 'a', type: 'bc' }),
    );
    expect(eventHash(Buffer.alloc(32), base)).not.toEqual(eventHash(null, base));
  });
});

describe('checkStreamStep', () => {
  const v1 = chained(null, { position: '10' });
  const v2 = chained(v1, { position: '12', streamVersion: 2 });

  it('accepts a correctly chained successor and a new stream', () => {
    expect(checkStreamStep(null, v1)).toBeNull();
    expect(checkStreamStep(v1, v2)).toBeNull();
    expect(checkStreamStep(v2, chained(null, { streamId: 'address-2', position: '11' }))).toBeNull();
  });

  it('names a changed event', () => {
    const edited = { ...v2, dataText: '{"city": "Bonn"}' };
    expect(checkStreamStep(v1, edited)).toMatchObject({ kind: 'changed', position: '12', streamId: 'address-1' });
  });

  it('names a gap in the versions as deleted, also at the start of a stream', () => {
    const v3 = chained(v2, { position: '13', streamVersion: 3 });
    expect(checkStreamStep(v1, v3)).toMatchObject({ kind: 'deleted', position: '13' });
    expect(checkStreamStep(v1, v3)?.message).toMatch(/version 2 of address-1 is missing before position 13/);
    expect(checkStreamStep(null, v2)).toMatchObject({ kind: 'deleted', position: '12' });
  });

  it('names a later version at an earlier position as reordered', () => {
    expect(checkStreamStep(v1, { ...v2, position: '9' })).toMatchObject({ kind: 'reordered', position: '9' });
  });
});

describe('the seal digest and signatures', () => {
  it('depends on the order of the events and on their positions', () => {
    const [a, b] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    const ab = nextDigest(nextDigest(ZERO_DIGEST, 1n, a), 2n, b);
    const ba = nextDigest(nextDigest(ZERO_DIGEST, 1n, b), 2n, a);
    const shifted = nextDigest(nextDigest(ZERO_DIGEST, 1n, a), 3n, b);
    expect(new Set([ab, ba, shifted].map((d) => d.toString('hex'))).size).toBe(3);
  });

  const key = generateKeyPairSync('ed25519').privateKey;
  const fields = {
    seq: '1',
    headCursor: '750-7',
    headPosition: '7',
    eventCount: '7',
    digest: Buffer.alloc(32, 7),
    publicKey: publicKeyText(key),
    sealedAt: '2026-12-01T09:00:00.000Z',
  };
  const seal = (overrides: Partial<SealRow> = {}): SealRow => ({
    ...fields,
    signature: signSeal(fields, key),
    ...overrides,
  });

  it('verify what was signed and nothing else', () => {
    expect(sealSignatureValid(fields, signSeal(fields, key))).toBe(true);
    expect(sealSignatureValid({ ...fields, eventCount: '8' }, signSeal(fields, key))).toBe(false);
    expect(sealSignatureValid({ ...fields, digest: Buffer.alloc(32, 8) }, signSeal(fields, key))).toBe(false);
    expect(sealSignatureValid({ ...fields, publicKey: 'not a key' }, signSeal(fields, key))).toBe(false);
    expect(keyFingerprint(fields.publicKey)).toMatch(/^([0-9a-f]{4}:){7}[0-9a-f]{4}$/);
  });

  it('checkSeals finds a hole in the numbering, a bad signature and an untrusted key', () => {
    expect(checkSeals([seal()], [fields.publicKey])).toEqual([]);
    const second = { ...fields, seq: '3', eventCount: '9', headPosition: '9' };
    const problems = checkSeals([seal(), { ...second, signature: signSeal(second, key) }], [fields.publicKey]);
    expect(problems).toEqual([expect.objectContaining({ kind: 'deleted', sealSeq: '3' })]);
    const tampered = seal({ signature: Buffer.alloc(64) });
    expect(checkSeals([tampered], null)).toEqual([expect.objectContaining({ kind: 'bad-signature', sealSeq: '1' })]);
    const other = publicKeyText(generateKeyPairSync('ed25519').privateKey);
    expect(checkSeals([seal()], [other])[0]?.message).toMatch(/not a trusted sealing key/);
  });
});

it('byPosition puts the first broken position first, seal-less problems last', () => {
  const p = (position: string | null): Problem => ({ kind: 'changed', position, message: '' });
  expect([p(null), p('10'), p('9'), p('100')].sort(byPosition).map((x) => x.position)).toEqual([
    '9',
    '10',
    '100',
    null,
  ]);
});
