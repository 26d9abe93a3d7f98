/**
 * Helpers for the projection tests (tests only). Tests never sleep for the projector: they wait
 * for a condition with a bounded poll, and fail with a description of what did not happen.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { AddressCommand, AddressFieldChanges, AddressFieldsInput } from '@/domain/address';
import { compareCursors, decodeCursor, encodeCursor } from '@/domain/event-store/cursor';
import type { RecordedEvent } from '@/domain/messages';
import type { Ledger } from '@/lib/ledger';
import { waitFor } from '@/test/wait';
import type { AddressDoc } from './address-view/projection';
import { readCheckpoint } from './checkpoints';
import type { Queryable } from './pg';

/** Cursor of the last committed event in the gap-safe order ("0-0" for an empty store). */
export async function headCursor(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ tx: string; position: string }>(
    'SELECT transaction_id::text AS tx, position::text AS position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1',
  );
  return rows[0] ? encodeCursor({ transactionId: rows[0].tx, position: rows[0].position }) : '0-0';
}

/** Waits until the projection's checkpoint covers every event committed when this was called. */
export async function waitForProjection(q: Queryable, name: string, options: { timeoutMs?: number } = {}) {
  const head = decodeCursor(await headCursor(q));
  return waitFor(
    `${name} to reach ${encodeCursor(head)}`,
    async () => {
      const cp = await readCheckpoint(q, name);
      return compareCursors(decodeCursor(cp.cursor), head) >= 0 ? cp : null;
    },
    options,
  );
}

export async function allEvents(q: Queryable): Promise<RecordedEvent[]> {
  const { rows } = await q.query(
    `SELECT position::text, stream_id, stream_version, event_id::text, type, schema_version, data, metadata, recorded_at
       FROM events ORDER BY transaction_id, position`,
  );
  return rows.map((r) => ({
    eventId: r.event_id,
    streamId: r.stream_id,
    streamVersion: r.stream_version,
    position: r.position,
    type: r.type,
    schemaVersion: r.schema_version,
    data: r.data,
    metadata: { ...r.metadata, recordedAt: r.recorded_at.toISOString() },
    recordedAt: r.recorded_at.toISOString(),
  }));
}

/** Every row of a read-model table, ordered, as plain JSON (so two snapshots compare with toEqual). */
export async function tableRows(q: Queryable, table: string, orderBy: string): Promise<unknown[]> {
  const { rows } = await q.query(`SELECT * FROM ${table} ORDER BY ${orderBy}`);
  return JSON.parse(JSON.stringify(rows));
}

export async function addressViewDocs(q: Queryable): Promise<Map<string, AddressDoc>> {
  const { rowToDoc } = await import('./address-view/writer');
  const { rows } = await q.query('SELECT * FROM address_view ORDER BY address_id');
  return new Map(rows.map((r) => [r.address_id, rowToDoc(r)]));
}

const actor = { id: 'test-operator', name: 'Test Operator', role: 'operator' as const };

function command<C extends AddressCommand>(type: C['type'], data: C['data']): C {
  const commandId = randomUUID();
  return { type, data, metadata: { commandId, correlationId: commandId, actor, source: 'api' } } as C;
}

/** Drives the real write side (decider + event store), as the API does. */
export function commands(ledger: Ledger) {
  return {
    async register(fields: Partial<AddressFieldsInput> = {}, addressId: string = randomUUID()) {
      const full: AddressFieldsInput = {
        line1: '12 Main Street',
        city: 'Portland',
        region: 'ME',
        postalCode: '04101',
        country: 'US',
        ...fields,
      };
      await ledger.handle(command('RegisterAddress', { addressId, fields: full }));
      return addressId;
    },
    change: (addressId: string, changes: AddressFieldChanges) =>
      ledger.handle(command('ChangeAddress', { addressId, changes })),
    correct: (addressId: string, corrects: number, fields: AddressFieldChanges) =>
      ledger.handle(command('CorrectAddress', { addressId, corrects, fields, reason: 'typo in the import' })),
    archive: (addressId: string) => ledger.handle(command('ArchiveAddress', { addressId, reason: 'demolished' })),
    restore: (addressId: string) => ledger.handle(command('RestoreAddress', { addressId, reason: 'rebuilt' })),
  };
}

/**
 * A varied history: `n` registrations, then changes, corrections (incl. clearing a field),
 * archives and restores on some of them. Deterministic in shape, so tests can reason about it.
 */
export async function writeHistory(ledger: Ledger, n: number, label = 'h'): Promise<string[]> {
  const c = commands(ledger);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(
      await c.register({
        line1: `${i + 1} ${['Chestnut Street', 'Main St', 'Poland Spring Road', 'Ocean Avenue'][i % 4]}`,
        line2: i % 5 === 0 ? `Apt ${i}` : null,
        city: ['Portland', 'Bangor', 'Lewiston', 'Nashua'][i % 4]!,
        region: i % 4 === 3 ? 'NH' : 'ME',
        postalCode: ['04101', '04401', '04240', '03060'][i % 4]!,
        owner: `${label}-${i}`,
      }),
    );
  }
  for (const [i, id] of ids.entries()) {
    if (i % 3 === 0) await c.change(id, { line1: `${i + 100} Congress Street` });
    if (i % 5 === 0) await c.correct(id, 1, { line2: null });
    if (i % 4 === 1) await c.archive(id);
    if (i % 8 === 1) await c.restore(id);
  }
  return ids;
}

export interface ChildProjector {
  proc: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Array<Record<string, unknown>>;
  waitForLog(what: string, predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<void>;
  /** Waits until `condition` holds, checked whenever the child logs. */
  waitUntil(what: string, condition: () => boolean, timeoutMs?: number): Promise<void>;
  /** Signals the whole process group (npx → tsx → node), so no grandchild survives holding a lock. */
  kill(signal: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * The projector script as a child process against a test database: `npx tsx scripts/projector.ts`
 * by default, or `node --import tsx scripts/projector.ts` (`via: 'node'`) where the exit status
 * matters: npx/npm exit at once on SIGTERM without waiting for their child, so only the direct
 * form reports the worker's own exit code.
 */
export function spawnProjector(
  databaseUrl: string,
  env: Record<string, string> = {},
  via: 'npx' | 'node' = 'npx',
): ChildProjector {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['SEARCH_BACKEND', 'MEILI_URL', 'MEILI_API_KEY', 'MEILI_SEARCH_API_KEY', 'SEARCH_DATABASE_URL'])
    delete childEnv[key];
  const [command, args] =
    via === 'npx'
      ? ['npx', ['tsx', 'scripts/projector.ts']]
      : [process.execPath, ['--import', 'tsx', 'scripts/projector.ts']];
  const proc = spawn(command as string, args as string[], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...childEnv,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'debug',
      PROJECTOR_POLL_MS: '200',
      PROJECTOR_LOCK_RETRY_MS: '100',
      PROJECTOR_SKIP_MIGRATE: '1',
      ...env,
    },
  });
  const logs: Array<Record<string, unknown>> = [];
  const listeners = new Set<() => void>();
  let buffer = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ msg: line });
      }
      nl = buffer.indexOf('\n');
    }
    for (const l of listeners) l();
  });
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    logs,
    exited,
    kill(signal) {
      try {
        process.kill(-proc.pid!, signal);
      } catch {
        // already gone
      }
    },
    waitForLog(what, predicate, timeoutMs) {
      return this.waitUntil(what, () => logs.some(predicate), timeoutMs);
    },
    waitUntil(what, condition, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (condition()) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for the projector: ${what}\nstderr: ${stderr.slice(-2000)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}

export { burnTransactionIdsToNextPowerOfTen } from '@/test/db';
export { type TcpProxy, tcpProxy } from '@/test/tcp-proxy';
export { waitFor };
