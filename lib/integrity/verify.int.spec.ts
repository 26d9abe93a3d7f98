import { generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createLedger } from '@/lib/ledger';
import { writeHistory } from '@/projections/testing';
import { createTestDatabase, type TestDatabase, waitForAllEventsVisible } from '@/test/db';
import { publicKeyText } from './chain';
import type { SealKey } from './seal-key';
import { sealAll } from './sealer';
import { verifyLedger } from './verify';

/*
 * Tampering as the database superuser (the test database's own user): triggers off for one
 * transaction, then the edit an attacker would make. Each time verify must fail and name the
 * first broken position and what happened there.
 */

function newKey(): SealKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: publicKeyText(privateKey) };
}
const key = newKey();
const trusted = { keys: [key.publicKey], source: 'signing key' as const };

const open: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.drop()));
});

/** A varied history (several streams of several versions), sealed in several seals. */
async function sealedLedger() {
  const db = await createTestDatabase();
  open.push(db);
  await writeHistory(createLedger(db.prisma), 10, 'v');
  await waitForAllEventsVisible(db.pool);
  const seals = await sealAll(db.pool, key, { maxEvents: 7 });
  expect(seals.length).toBeGreaterThan(2);
  return db;
}

/** Runs `sql` as the superuser with every trigger off (immutability and chaining included). */
async function tamper(db: TestDatabase, ...statements: string[]) {
  // Only a superuser may switch triggers off this way: the app's role and the owner cannot.
  const client = new pg.Client({ connectionString: db.superuserUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
    for (const sql of statements) await client.query(sql);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

interface Row {
  position: string;
  stream_id: string;
  stream_version: number;
  transaction_id: string;
}
async function events(pool: pg.Pool): Promise<Row[]> {
  const { rows } = await pool.query<Row>(
    'SELECT position::text, stream_id, stream_version, transaction_id::text FROM events ORDER BY events.position',
  );
  return rows;
}
/** An event that has a later one in its stream, and one that is the last of its stream. */
async function middleAndLast(pool: pg.Pool) {
  const rows = await events(pool);
  const last = new Map(rows.map((r) => [r.stream_id, r.stream_version]));
  const middle = rows.find((r) => r.stream_version === 1 && last.get(r.stream_id)! >= 3)!;
  const tail = rows.filter((r) => last.get(r.stream_id) === r.stream_version && r.stream_version > 1).at(2)!;
  return { middle, tail, rows };
}

const verify = (db: TestDatabase) => verifyLedger(db.pool, { trusted, pageSize: 5 });

describe('npm run verify (verifyLedger)', () => {
  it('finds an untouched ledger intact, sealed events and newer unsealed ones alike', async () => {
    const db = await sealedLedger();
    const sealed = await verify(db);
    expect(sealed.problems).toEqual([]);
    expect(sealed.ok).toBe(true);
    const total = (await events(db.pool)).length;
    expect(sealed.summary).toMatchObject({ events: total, streams: 10, sealedEvents: total, unsealedEvents: 0 });

    await writeHistory(createLedger(db.prisma), 2, 'later');
    const later = await verify(db);
    expect(later.ok).toBe(true);
    expect(later.summary.unsealedEvents).toBeGreaterThan(0);
  });

  it('(a) names a changed event, also when the attacker recomputed the stream’s hashes', async () => {
    const db = await sealedLedger();
    const { middle } = await middleAndLast(db.pool);
    await tamper(
      db,
      `UPDATE events SET data = jsonb_set(data, '{line1}', '"1 Forged Street"') WHERE position = ${middle.position}`,
    );
    const plain = await verify(db);
    expect(plain.ok).toBe(false);
    expect(plain.problems[0]).toMatchObject({ kind: 'changed', position: middle.position });

    // Re-chaining the whole stream hides the change from the stream check; the seals still see it.
    await tamper(
      db,
      `DO $$ DECLARE r RECORD; prev BYTEA := NULL; BEGIN
         FOR r IN SELECT * FROM events WHERE stream_id = '${middle.stream_id}' ORDER BY stream_version LOOP
           prev := event_hash(prev, r.event_id, r.stream_id, r.stream_version, r.type, r.schema_version,
                              r.data, r.metadata, r.recorded_at);
           UPDATE events SET hash = prev WHERE position = r.position;
         END LOOP;
       END $$`,
    );
    const rechained = await verify(db);
    expect(rechained.problems[0]).toMatchObject({ kind: 'changed', position: middle.position });
    expect(rechained.problems.every((p) => p.kind !== 'changed' || p.message.includes('sealed'))).toBe(true);
  });

  it('(b) names a deleted event, in the middle of its stream or at its end', async () => {
    const db = await sealedLedger();
    const { middle, tail } = await middleAndLast(db.pool);
    await tamper(db, `DELETE FROM events WHERE position IN (${middle.position}, ${tail.position})`);
    const report = await verify(db);
    expect(report.ok).toBe(false);
    const first = [middle, tail].sort((a, b) => Number(a.position) - Number(b.position))[0]!;
    expect(report.problems[0]).toMatchObject({ kind: 'deleted', position: first.position });
    // The end of a stream leaves no gap in its chain: only the seals can tell, and they do.
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'deleted', position: tail.position }));
  });

  it('(c) names an event inserted with a forged version, even with a correct hash, inside sealed history', async () => {
    const db = await sealedLedger();
    const { rows } = await middleAndLast(db.pool);
    const victim = rows.at(-1)!;
    const early = rows[2]!;
    // The next version of a stream, correctly chained, backdated into an early transaction so it
    // sorts among sealed events: only the seals know it was never there.
    await tamper(
      db,
      `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata, transaction_id, hash)
       SELECT h.stream_id, h.stream_version + 1, x.id, 'AddressArchived', 1, '{"reason": "forged"}', h.metadata,
              '${early.transaction_id}'::xid8,
              event_hash(h.hash, x.id, h.stream_id, h.stream_version + 1, 'AddressArchived', 1, '{"reason": "forged"}', h.metadata, now())
         FROM events h CROSS JOIN (SELECT gen_random_uuid() AS id) x
        WHERE h.position = ${victim.position}`,
    );
    const report = await verify(db);
    expect(report.ok).toBe(false);
    const forged = (await events(db.pool)).at(-1)!;
    expect(forged).toMatchObject({ stream_id: victim.stream_id, stream_version: victim.stream_version + 1 });
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'inserted', position: forged.position })]);
  });

  it('(d) names two events whose positions were swapped', async () => {
    const db = await sealedLedger();
    const rows = await events(db.pool);
    const [a, b] = [rows[3]!, rows.find((r, i) => i > 3 && r.stream_id !== rows[3]!.stream_id)!];
    await tamper(
      db,
      'ALTER TABLE events ALTER COLUMN position SET GENERATED BY DEFAULT',
      `UPDATE events SET position = -1 WHERE position = ${a.position}`,
      `UPDATE events SET position = ${a.position} WHERE position = ${b.position}`,
      `UPDATE events SET position = ${b.position} WHERE position = -1`,
      'ALTER TABLE events ALTER COLUMN position SET GENERATED ALWAYS',
    );
    const report = await verify(db);
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: 'reordered', position: a.position });
  });

  it('detects a seal whose signature was altered, and one signed by a key that is not trusted', async () => {
    const db = await sealedLedger();
    const { rows } = await db.pool.query<{ head_position: string }>(
      'SELECT head_position::text FROM event_seals WHERE seq = 2',
    );
    await tamper(
      db,
      `UPDATE event_seals SET signature = set_byte(signature, 0, (get_byte(signature, 0) + 1) % 256) WHERE seq = 2`,
    );
    const altered = await verify(db);
    expect(altered.ok).toBe(false);
    expect(altered.problems[0]).toMatchObject({
      kind: 'bad-signature',
      position: rows[0]!.head_position,
      sealSeq: '2',
    });

    // A forger's own key signs validly, but it is not the key this installation trusts.
    const other = verifyLedger(db.pool, { trusted: { keys: [newKey().publicKey], source: 'SEAL_PUBLIC_KEY' } });
    const report = await other;
    expect(report.problems.filter((p) => p.kind === 'bad-signature').map((p) => p.sealSeq)).toContain('1');
    expect(report.problems.find((p) => p.sealSeq === '1')?.message).toMatch(/not a trusted sealing key/);
  });

  it('detects a deleted seal in the middle', async () => {
    const db = await sealedLedger();
    await tamper(db, 'DELETE FROM event_seal_entries WHERE seal_seq = 2', 'DELETE FROM event_seals WHERE seq = 2');
    const report = await verify(db);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind)).toContain('deleted');
    expect(report.problems.some((p) => p.message.includes('seal 2 is missing'))).toBe(true);
  });
});
