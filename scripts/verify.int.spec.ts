import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger } from '@/lib/ledger';
import { writeHistory } from '@/projections/testing';
import { createTestDatabase, type TestDatabase, waitForAllEventsVisible } from '@/test/db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const signingKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

function verify(args: string[] = []) {
  const result = spawnSync('npx', ['tsx', 'scripts/verify.ts', ...args], {
    env: {
      ...process.env,
      DATABASE_URL: t.url,
      SEAL_PRIVATE_KEY: signingKey,
      // Never the developer's own key file under .data/.
      SEAL_KEY_FILE: path.join(os.tmpdir(), 'address-ledger-no-such-key.pem'),
    },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run verify', () => {
  it('exits 0 on an intact ledger and 1 naming the first broken position once it is tampered with', async () => {
    await writeHistory(createLedger(t.prisma), 4, 'cli');
    await waitForAllEventsVisible(t.pool);
    const intact = verify(['--seal']);
    expect(intact.stderr).toMatch(/sealed \d+ events in 1 seals/);
    expect(intact).toMatchObject({ code: 0 });
    expect(intact.stdout).toMatch(/^\d+ events in 4 streams; 1 seals up to position \d+/);
    expect(intact.stdout).toMatch(/verify: intact\n$/);

    const { rows } = await t.pool.query<{ p: string }>(
      'SELECT position::text AS p FROM events WHERE stream_version = 2 ORDER BY events.position LIMIT 1',
    );
    // As the superuser, the one role that may switch the immutability trigger off.
    const client = new pg.Client({ connectionString: t.superuserUrl });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL session_replication_role = replica');
      await client.query(`UPDATE events SET metadata = metadata || '{"reason": "rewritten"}' WHERE position = $1`, [
        rows[0]!.p,
      ]);
      await client.query('COMMIT');
    } finally {
      await client.end();
    }
    const broken = verify();
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`verify: BROKEN at position ${rows[0]!.p}: changed`);

    const recorded = await t.pool.query<{ source: string; result: string }>(
      'SELECT source, result FROM integrity_verifications ORDER BY id',
    );
    expect(recorded.rows).toEqual([
      { source: 'cli', result: 'intact' },
      { source: 'cli', result: 'broken' },
    ]);
  });
});
