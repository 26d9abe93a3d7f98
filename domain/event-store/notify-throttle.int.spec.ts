import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { EVENTS_CHANNEL } from './postgres-event-store';

/*
 * The appends' NOTIFY (notify_events, migration 20261202020000): PostgreSQL holds a cluster-wide
 * lock from a notifying transaction's commit until it ends, so only one transaction in flight
 * notifies; the listeners follow up (projections/runner-follow-up.int.spec.ts).
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

async function append(q: Pick<pg.ClientBase, 'query'>, streamId: string): Promise<string> {
  const { rows } = await q.query<{ outcome: string; position: string }>(
    `SELECT outcome, position FROM append_events($1, 0,
       jsonb_build_array(jsonb_build_object('eventId', gen_random_uuid(), 'type', 'Tested', 'schemaVersion', 1,
                                            'data', '{}'::jsonb, 'metadata', '{}'::jsonb)),
       NULL, NULL, $2)`,
    [streamId, EVENTS_CHANNEL],
  );
  expect(rows[0]?.outcome).toBe('appended');
  return rows[0]!.position;
}

describe('the wake-up of the event listeners', () => {
  it('is sent by one of two transactions in flight at once, and again by the next one', async () => {
    const listener = await db.pool.connect();
    const payloads: string[] = [];
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
    const first = await db.pool.connect();
    const second = await db.pool.connect();
    try {
      await first.query('BEGIN');
      await second.query('BEGIN');
      const p1 = await append(first, `s-${randomUUID()}`);
      const p2 = await append(second, `s-${randomUUID()}`);
      await first.query('COMMIT');
      await second.query('COMMIT');
      // Delivered in commit order: once the third one's arrives, the second's would have too.
      const p3 = await append(db.pool, `s-${randomUUID()}`);
      await expect.poll(() => payloads.at(-1)).toBe(p3);
      expect(payloads).toEqual([p1, p3]);
      expect(payloads).not.toContain(p2);
    } finally {
      await first.query('ROLLBACK').catch(() => {});
      await second.query('ROLLBACK').catch(() => {});
      first.release();
      second.release();
      listener.release();
    }
  });

  it('is never sent for a transaction that rolls back, and the next one notifies', async () => {
    const listener = await db.pool.connect();
    const payloads: string[] = [];
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const rolledBack = await append(client, `s-${randomUUID()}`);
      await client.query('ROLLBACK');
      const next = await append(db.pool, `s-${randomUUID()}`);
      await expect.poll(() => payloads.at(-1)).toBe(next);
      expect(payloads).not.toContain(rolledBack);
    } finally {
      client.release();
      listener.release();
    }
  });
});
