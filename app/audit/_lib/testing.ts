import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Actor, Source } from '@/domain/messages';

/**
 * Test and benchmark data for the audit log: many addresses with a realistic mix of event types,
 * actors, sources, cities, reasons and recorded times (spread over months, which the command
 * handler cannot do: the database stamps `recorded_at` itself). Rows are inserted directly in
 * batches, in the shapes the decider writes (and AddressRegistered schema version 1 for some, so
 * the upcasters are exercised).
 */

export const AUDIT_ACTORS = {
  ada: { id: '0b3c0f6e-3f0e-4d55-9d7e-1a1a1a1a1a01', name: 'Ada', role: 'operator' },
  bob: { id: '0b3c0f6e-3f0e-4d55-9d7e-1a1a1a1a1a02', name: 'Bob Builder', role: 'admin' },
  importer: { id: 'token:7f1e2d3c-0000-4000-8000-000000000001', name: 'importer (API token)', role: 'operator' },
  seed: { id: 'system:seed', name: 'Demo data', role: 'system' },
} as const satisfies Record<string, Actor>;

export const AUDIT_CITIES = ['Portland', 'Auburn', 'Lewiston', 'Bangor'] as const;

interface Row {
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: unknown;
  recorded_at: string;
}

/** A small deterministic generator, so a failing case can be replayed. */
function generator(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export interface SeedOptions {
  addresses: number;
  eventsPerAddress: number;
  /** Recorded time of the first event; each next one is `stepMs` later. */
  from?: Date;
  stepMs?: number;
  seed?: number;
  /** Called after each inserted batch with the number inserted so far. */
  onProgress?: (done: number) => void;
}

const SOURCES: Source[] = ['ui', 'api', 'import'];

/**
 * Inserts `addresses × eventsPerAddress` events, interleaved across streams in time order, as raw
 * rows with chosen times and actors: pass the owner's pool (the app may only append).
 * Returns the address ids.
 */
export async function seedAuditEvents(pool: pg.Pool, options: SeedOptions): Promise<string[]> {
  const random = generator(options.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const from = (options.from ?? new Date('2026-09-01T00:00:00Z')).getTime();
  const step = options.stepMs ?? 3_600_000;
  const actors = Object.values(AUDIT_ACTORS);
  const ids = Array.from({ length: options.addresses }, () => randomUUID());
  const archived = new Array<boolean>(options.addresses).fill(false);
  const batch: Row[] = [];
  let n = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await pool.query(
      `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at)
       SELECT x ->> 'stream_id', (x ->> 'stream_version')::int, (x ->> 'event_id')::uuid, x ->> 'type',
              (x ->> 'schema_version')::int, x -> 'data', x -> 'metadata', (x ->> 'recorded_at')::timestamptz
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS r(x, i)
       ORDER BY i`,
      [JSON.stringify(batch)],
    );
    n += batch.length;
    batch.length = 0;
    options.onProgress?.(n);
  };

  for (let version = 1; version <= options.eventsPerAddress; version++) {
    for (const [a, addressId] of ids.entries()) {
      const actor = pick(actors);
      const source: Source = actor === AUDIT_ACTORS.importer || actor === AUDIT_ACTORS.seed ? 'import' : pick(SOURCES);
      const correlationId = a % 7 === 0 ? `batch-${a % 3}` : randomUUID();
      const meta = (reason?: string) => ({
        actor,
        commandId: randomUUID(),
        correlationId,
        source,
        ...(reason ? { reason } : {}),
      });
      // A house number of its own: the duplicate guard refuses two active addresses alike.
      const street = `${10 + a} ${pick(['Main', 'Elm', 'Congress', 'Exchange'])} Street`;
      let type: string;
      let schemaVersion = 1;
      let data: Record<string, unknown>;
      let metadata: ReturnType<typeof meta>;
      if (version === 1) {
        type = 'AddressRegistered';
        const city = AUDIT_CITIES[a % AUDIT_CITIES.length]!;
        const postalCode = `04${String(100 + (a % 800)).padStart(3, '0')}`;
        if (a % 5 === 0) {
          data = { addressId, street, city, state: 'ME', zip: postalCode, countryCode: 'us' };
        } else {
          schemaVersion = 2;
          data = { addressId, line1: street, city, region: 'ME', postalCode, country: 'US' };
        }
        metadata = meta();
      } else if (archived[a]) {
        type = 'AddressRestored';
        archived[a] = false;
        data = { addressId };
        metadata = meta();
      } else {
        const roll = random();
        if (roll < 0.3) {
          type = 'AddressChanged';
          data = { addressId, changes: { postalCode: `04${String(100 + Math.floor(random() * 800))}` } };
          metadata = meta(random() < 0.5 ? 'customer called' : undefined);
        } else if (roll < 0.5) {
          type = 'AddressChanged';
          data = { addressId, changes: { city: pick(AUDIT_CITIES) } };
          metadata = meta('moved');
        } else if (roll < 0.75) {
          type = 'AddressCorrected';
          const reason = pick(['typo in street', 'wrong zip', 'Typo: house number']);
          data = { addressId, corrects: 1, fields: { line1: `${street} Rear` }, reason };
          metadata = meta(reason);
        } else if (roll < 0.85) {
          type = 'AddressArchived';
          archived[a] = true;
          data = { addressId, reason: 'demolished' };
          metadata = meta('demolished');
        } else {
          type = 'AddressChanged';
          data = { addressId, changes: { owner: random() < 0.5 ? null : `CUST-${a}` } };
          metadata = meta();
        }
      }
      batch.push({
        stream_id: `address-${addressId}`,
        stream_version: version,
        event_id: randomUUID(),
        type,
        schema_version: schemaVersion,
        data,
        metadata,
        recorded_at: new Date(from + (n + batch.length) * step).toISOString(),
      });
      // Short transactions: a long one would hold back the gap-safe readers of the whole server.
      if (batch.length >= 1000) await flush();
    }
  }
  await flush();
  return ids;
}
