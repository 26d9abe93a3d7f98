import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/*
 * The definitions behind tamper evidence, in one place (README "Tamper evidence"): the canonical
 * bytes of an event and its chained hash, the running digest over the global order that seals
 * sign, the signed message of a seal, and the checks the verifier applies. Pure: no database.
 *
 * The SQL side (event_hash() in prisma/migrations/20261201040000_tamper_evidence) must produce the
 * same bytes; chain.int.spec.ts compares the two on real rows.
 */

/** An event as the verifier reads it. The texts are the database's own renderings (see below). */
export interface ChainedEvent {
  position: string;
  eventId: string;
  streamId: string;
  streamVersion: number;
  type: string;
  schemaVersion: number;
  /**
   * jsonb's text output of `data` / `metadata` (`data::text`). It is one text per jsonb value:
   * keys sorted by length then bytes, duplicates removed, `", "` and `": "` as separators, numbers
   * as stored. Re-serialising JSON.parse's result in JS would not be: `1.0` would become `1`.
   */
  dataText: string;
  metadataText: string;
  /** `recorded_at` as whole microseconds since 1970-01-01T00:00:00Z, decimal (a JS Date keeps only ms). */
  recordedAtMicros: string;
  /** The stored hash. */
  hash: Buffer;
}

export type HashInput = Omit<ChainedEvent, 'position' | 'hash'>;

const netstring = (text: string) => `${Buffer.byteLength(text, 'utf8')}:${text},`;

/**
 * `"ledger-event-v1,"` followed by the netstrings (`<byte length>:<UTF-8 bytes>,`) of: the previous
 * event's hash in lowercase hex (empty for version 1), event id, stream id, stream version, type,
 * schema version, data, metadata, recorded time. Length prefixes make the encoding unambiguous
 * whatever the fields contain.
 */
export function canonicalEventBytes(prev: Buffer | null, e: HashInput): Buffer {
  const fields = [
    prev ? prev.toString('hex') : '',
    e.eventId.toLowerCase(),
    e.streamId,
    String(e.streamVersion),
    e.type,
    String(e.schemaVersion),
    e.dataText,
    e.metadataText,
    e.recordedAtMicros,
  ];
  return Buffer.from(`ledger-event-v1,${fields.map(netstring).join('')}`, 'utf8');
}

export function eventHash(prev: Buffer | null, e: HashInput): Buffer {
  return createHash('sha256').update(canonicalEventBytes(prev, e)).digest();
}

/** The digest before the first event. */
export const ZERO_DIGEST = Buffer.alloc(32);

/** digest_n = sha256(digest_{n-1} ‖ position as 8 bytes big-endian ‖ hash_n), in gap-safe global order. */
export function nextDigest(digest: Buffer, position: string | bigint, hash: Buffer): Buffer {
  const pos = Buffer.alloc(8);
  pos.writeBigUInt64BE(BigInt(position));
  return createHash('sha256').update(digest).update(pos).update(hash).digest();
}

export interface SealFields {
  seq: string;
  headCursor: string;
  headPosition: string;
  eventCount: string;
  digest: Buffer;
  /** Base64 of the Ed25519 public key as SubjectPublicKeyInfo DER. */
  publicKey: string;
  /** ISO 8601 with milliseconds, UTC. */
  sealedAt: string;
}

/** What a seal's signature covers: every field of the seal, encoded like an event. */
export function sealMessage(s: SealFields): Buffer {
  const fields = [s.seq, s.headCursor, s.headPosition, s.eventCount, s.digest.toString('hex'), s.publicKey, s.sealedAt];
  return Buffer.from(`ledger-seal-v1,${fields.map(netstring).join('')}`, 'utf8');
}

export function publicKeyText(key: KeyObject): string {
  return createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64');
}

/** A short, stable name for a public key to compare by eye (SHA-256 of the DER, first 16 bytes). */
export function keyFingerprint(publicKey: string): string {
  const hex = createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('hex').slice(0, 32);
  return hex.match(/.{4}/g)!.join(':');
}

export function signSeal(fields: SealFields, privateKey: KeyObject): Buffer {
  return sign(null, sealMessage(fields), privateKey);
}

export function sealSignatureValid(fields: SealFields, signature: Buffer): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(fields.publicKey, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, sealMessage(fields), key, signature);
  } catch {
    // A public key that does not even parse signs nothing.
    return false;
  }
}

export type ProblemKind = 'changed' | 'deleted' | 'inserted' | 'reordered' | 'bad-signature' | 'seal-mismatch';

export interface Problem {
  kind: ProblemKind;
  /** The global position where the history stops matching (for a seal: its head position). */
  position: string | null;
  message: string;
  streamId?: string;
  sealSeq?: string;
}

/** Problems in the order to report them: the first broken position first. */
export function byPosition(a: Problem, b: Problem): number {
  if (a.position === null || b.position === null) return a.position === null ? (b.position === null ? 0 : 1) : -1;
  const d = BigInt(a.position) - BigInt(b.position);
  return d === 0n ? 0 : d < 0n ? -1 : 1;
}

export type StreamLink = Pick<ChainedEvent, 'streamId' | 'streamVersion' | 'position' | 'hash'>;

/**
 * One step of the per-stream walk (events in (stream id, version) order): `previous` is the event
 * before `e` in that order. Checks that the versions follow without a gap, that positions grow
 * with versions, and that `e` hashes, chained to the previous event's stored hash, to its stored
 * hash. Returns the first problem, or null.
 */
export function checkStreamStep(previous: StreamLink | null, e: ChainedEvent): Problem | null {
  const sameStream = previous !== null && previous.streamId === e.streamId;
  const expected = sameStream ? previous.streamVersion + 1 : 1;
  const at = `position ${e.position} (${e.streamId} version ${e.streamVersion})`;
  if (e.streamVersion !== expected) {
    const missing =
      expected === e.streamVersion - 1 ? `version ${expected}` : `versions ${expected}–${e.streamVersion - 1}`;
    return {
      kind: 'deleted',
      position: e.position,
      streamId: e.streamId,
      message: `${missing} of ${e.streamId} ${expected === e.streamVersion - 1 ? 'is' : 'are'} missing before ${at}`,
    };
  }
  if (sameStream && BigInt(e.position) <= BigInt(previous.position)) {
    return {
      kind: 'reordered',
      position: e.position,
      streamId: e.streamId,
      message: `${at} comes before version ${previous.streamVersion} at position ${previous.position}`,
    };
  }
  const computed = eventHash(sameStream ? previous.hash : null, e);
  if (!computed.equals(e.hash)) {
    return { kind: 'changed', position: e.position, streamId: e.streamId, message: `${at} does not match its hash` };
  }
  return null;
}

export interface SealRow extends SealFields {
  signature: Buffer;
}

/**
 * The seals on their own: numbered 1, 2, 3 … without a hole, each covering more than the one
 * before, each signed by its key, and that key one of `trusted` (when known; otherwise any key
 * that signs validly is accepted, and the caller says so).
 */
export function checkSeals(seals: SealRow[], trusted: readonly string[] | null): Problem[] {
  const problems: Problem[] = [];
  let previous: SealRow | null = null;
  for (const [i, seal] of seals.entries()) {
    const base = { position: seal.headPosition, sealSeq: seal.seq };
    if (BigInt(seal.seq) !== BigInt(i + 1)) {
      problems.push({
        ...base,
        kind: 'deleted',
        message: `seal ${i + 1} is missing (the next one found is seal ${seal.seq})`,
      });
    }
    if (previous && BigInt(seal.eventCount) <= BigInt(previous.eventCount)) {
      problems.push({
        ...base,
        kind: 'seal-mismatch',
        message: `seal ${seal.seq} covers ${seal.eventCount} events, no more than seal ${previous.seq} (${previous.eventCount})`,
      });
    }
    if (!sealSignatureValid(seal, seal.signature)) {
      problems.push({ ...base, kind: 'bad-signature', message: `seal ${seal.seq}: the signature does not match` });
    } else if (trusted && !trusted.includes(seal.publicKey)) {
      problems.push({
        ...base,
        kind: 'bad-signature',
        message: `seal ${seal.seq} is signed by key ${keyFingerprint(seal.publicKey)}, which is not a trusted sealing key`,
      });
    }
    previous = seal;
  }
  return problems;
}
