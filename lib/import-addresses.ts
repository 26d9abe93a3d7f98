import { hash, randomUUID } from 'node:crypto';
import {
  AddressAlreadyRegistered,
  type AddressFieldsInput,
  addressIdFromStream,
  addressStreamId,
  normalizeFields,
  type RegisterAddress,
} from '@/domain/address';
import type { BatchHandleOutcome } from '@/domain/command-handler';
import { DuplicateAddressError, IdempotencyKeyReusedError } from '@/domain/event-store/errors';
import type { Actor } from '@/domain/messages';
import { projectionPacer } from '@/projections/pacing';
import { poolOf } from './db';
import type { Ledger } from './ledger';
import { logger } from './logger';
import {
  addressFieldsSchema,
  formatZodIssues,
  hasForbiddenCharacters,
  type ValidationIssue,
} from './validation/address';

export interface ImportItem {
  /** Stable key of the source row: the same key is the same address, so re-running appends nothing. */
  key: string;
  fields: AddressFieldsInput;
  /** 1-based data row of the file (the header is row 0), for the report. */
  row?: number;
  /** The row as read, for the report. */
  raw?: Readonly<Record<string, string>>;
  /** Found while reading (e.g. a row with too many columns): rejected with these reasons and any others. */
  problems?: ValidationIssue[];
}

export interface ImportRejection {
  row?: number;
  key: string;
  raw?: Readonly<Record<string, string>>;
  reasons: ValidationIssue[];
}

export interface ImportSummary {
  rows: number;
  registered: number;
  /** Imported by an earlier run (same source and key): nothing appended. */
  unchanged: number;
  /**
   * Rows that are the same address as another active one (the duplicate guard: same normalised
   * line 1, line 2, postal code, country and owner), not imported. Not failures: the address is in
   * the register already, under the id `onDuplicate` reports.
   */
  duplicates: number;
  rejected: number;
}

export interface ImportDuplicate {
  row?: number;
  key: string;
  /** The row as read, for the report. */
  raw?: Readonly<Record<string, string>>;
  /** The active address that already has these fields. */
  addressId: string;
}

export interface ImportOptions {
  source: string;
  actor: Actor;
  /** One per run, so every event of the run can be found together. */
  correlationId?: string;
  /** Rows per round trip (append_events_batch). */
  batchSize?: number;
  /** Batches sent before waiting for the oldest: the next batch is validated while one is written. */
  inFlight?: number;
  /** Validate and count what would be registered, without writing. */
  dryRun?: boolean;
  /**
   * Events a running projection may fall behind before the next batch waits for it to come
   * within half of that (projections/pacing.ts); 0 never waits. The default is about two
   * seconds of the projector's work on these machines, so search is that fresh during an
   * import and again that soon after it. A projector that is not running, or whose last batch
   * failed, is not waited for, and one that stops moving ends the wait after 30 s.
   */
  maxProjectionLag?: number;
  onRejected?: (rejection: ImportRejection) => void;
  onDuplicate?: (duplicate: ImportDuplicate) => void;
  /** A batch the database refused whole (then sent again without its duplicates, or in halves): its rows. */
  onBatchRefused?: (rows: number) => void;
  /**
   * After each batch is answered, and every `batchSize` rows read (a file of rejected rows sends
   * none). The import waits for a returned promise: a caller that stores the rejected rows keeps
   * them bounded by storing them here.
   */
  onProgress?: (summary: Readonly<ImportSummary>) => void | Promise<void>;
}

/** Longer keys would make a command id past what its unique index holds (about 2.7 kB). */
export const MAX_IMPORT_KEY_LENGTH = 200;

/**
 * A row key the command id can carry: the whole run failed at a key with a NUL byte or of a few
 * kilobytes (the database refuses it), and failed again at the same row on every re-run.
 */
export function importKeyIssues(key: string): ValidationIssue[] {
  if (key.length > MAX_IMPORT_KEY_LENGTH) {
    return [{ path: 'key', message: `the row key is longer than ${MAX_IMPORT_KEY_LENGTH} characters` }];
  }
  if (hasForbiddenCharacters(key)) {
    return [{ path: 'key', message: 'the row key holds control characters, line breaks or invisible characters' }];
  }
  return [];
}

/** ImportOptions.maxProjectionLag when not given. */
export const DEFAULT_MAX_PROJECTION_LAG = 10_000;

/** A UUID derived from the source key, so an address keeps its id across re-runs of an import. */
export function importedAddressId(source: string, key: string): string {
  const h = hash('sha256', `${source}\n${key}`, 'hex');
  // RFC 9562 version 8 (custom) with the RFC variant bits.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The command id of a row: the same source and key are the same command, in every run. */
export const importCommandId = (source: string, key: string) => `import:${source}:${key}`;

interface Pending {
  item: ImportItem;
  command: RegisterAddress;
}

/**
 * Registers addresses from another source through the command handler's rules, like any other
 * command: validated with the API's schema (rows that fail are reported with every reason, not
 * imported), decided by the domain, recorded with `source: import`, the importing actor and the
 * run's correlation id, idempotent per source row. Rows go in batches of one round trip each
 * (`ledger.handleBatch`); a stream that exists or a batch the database refuses falls back to one
 * command at a time, so each row gets the answer a single command would.
 *
 * `items` may be a stream of any length: at most `batchSize × (inFlight + 1)` rows are held at once.
 */
export async function importAddresses(
  ledger: Ledger,
  items: Iterable<ImportItem> | AsyncIterable<ImportItem>,
  options: ImportOptions,
): Promise<ImportSummary> {
  const summary: ImportSummary = { rows: 0, registered: 0, unchanged: 0, duplicates: 0, rejected: 0 };
  const correlationId = options.correlationId ?? `import-run:${randomUUID()}`;
  const batchSize = Math.max(1, options.batchSize ?? 1000);
  const inFlight = Math.max(1, options.inFlight ?? 2);
  const reject = (item: ImportItem, reasons: ValidationIssue[]) => {
    summary.rejected++;
    options.onRejected?.({ row: item.row, key: item.key, raw: item.raw, reasons });
  };

  // While the last batch answered had duplicates, and for the first ones of a run, each batch first
  // asks which of its addresses are held already (duplicatesIn): a file that overlaps the
  // register has some in every batch, each of which would otherwise be refused once and sent
  // again. One with a few pays that refused batch instead: the look-up for every row after the
  // first duplicate (row 52,455 of the 131,650-row Maine/New Hampshire file, which has three)
  // cost more.
  let overlapping = true;
  const write = async (batch: Pending[]) => {
    const commands = batch.map((p) => p.command);
    const held =
      options.dryRun || !overlapping ? new Map<number, DuplicateAddressError>() : await duplicatesIn(ledger, commands);
    const rest = commands.filter((_, i) => !held.has(i));
    const sent = options.dryRun
      ? await dryRunOutcomes(ledger, rest)
      : await ledger.handleBatch(rest, {
          onBatchRefused: (error) => {
            logger.warn(
              { err: errorMessage(error), rows: rest.length },
              'import batch refused; sending it again without the duplicates a look-up finds, else in halves',
            );
            options.onBatchRefused?.(rest.length);
          },
          // A batch sent without a look-up and refused (a duplicate of the register or of an
          // earlier row of the file): its duplicates, found now, are answered and the rest goes again.
          answerRefused: (_error, part) => duplicatesIn(ledger, part),
        });
    let next = 0;
    let duplicates = 0;
    for (const [i, { item }] of batch.entries()) {
      const duplicate = held.get(i);
      const outcome: BatchHandleOutcome = duplicate ? { ok: false, error: duplicate } : sent[next++]!;
      if (!outcome.ok && outcome.error instanceof DuplicateAddressError) {
        duplicates++;
        summary.duplicates++;
        const addressId = addressIdFromStream(outcome.error.existingStreamId);
        options.onDuplicate?.({ row: item.row, key: item.key, raw: item.raw, addressId });
      } else if (!outcome.ok) reject(item, [{ path: '', message: rejectionMessage(outcome.error, item.key) }]);
      else if (outcome.result.appended > 0) summary.registered++;
      else summary.unchanged++;
    }
    overlapping = duplicates > 0;
    await options.onProgress?.(summary);
  };

  // Prisma without a pg pool (no createPrisma) cannot be paced: only tests build one.
  const pool = poolOf(ledger.db);
  const maxLag = options.maxProjectionLag ?? DEFAULT_MAX_PROJECTION_LAG;
  const pace =
    options.dryRun || !pool
      ? async () => {}
      : projectionPacer(pool, {
          maxLag,
          onWait: (lag) => logger.info({ ...lag, maxLag }, 'import waiting for the projector'),
          onResume: ({ waitedMs, stalled }) =>
            stalled
              ? logger.warn({ waitedMs, ...stalled }, 'import going on: the projection it waited for stopped moving')
              : logger.info({ waitedMs }, 'import resumed'),
        });

  const running = new Set<Promise<void>>();
  // The first batch that failed stops the run; kept here so no rejection goes unhandled meanwhile.
  const failures: unknown[] = [];
  const send = async (batch: Pending[]) => {
    await pace();
    const p: Promise<void> = write(batch)
      .catch((error) => {
        failures.push(error);
      })
      .finally(() => running.delete(p));
    running.add(p);
    // Backpressure: stop reading while `inFlight` batches are unanswered.
    while (running.size >= inFlight) await Promise.race(running);
    if (failures.length > 0) throw failures[0];
  };

  let batch: Pending[] = [];
  let streams = new Set<string>();
  for await (const item of items) {
    summary.rows++;
    if (summary.rows % batchSize === 0) await options.onProgress?.(summary);
    const parsed = addressFieldsSchema.safeParse(item.fields);
    const problems = [
      ...(item.problems ?? []),
      ...importKeyIssues(item.key),
      ...(parsed.success ? [] : formatZodIssues(parsed.error)),
    ];
    if (!parsed.success || problems.length > 0) {
      reject(item, problems);
      continue;
    }
    const addressId = importedAddressId(options.source, item.key);
    // A key seen twice goes in a later batch (a batch holds each stream once); it then answers
    // as a repeat of the first row, or is rejected if its values differ.
    if (streams.has(addressId)) {
      await send(batch);
      batch = [];
      streams = new Set();
    }
    streams.add(addressId);
    batch.push({
      item,
      command: {
        type: 'RegisterAddress',
        data: { addressId, fields: parsed.data },
        metadata: {
          commandId: importCommandId(options.source, item.key),
          correlationId,
          actor: options.actor,
          source: 'import',
        },
      },
    });
    if (batch.length >= batchSize) {
      await send(batch);
      batch = [];
      streams = new Set();
    }
  }
  if (batch.length > 0) await send(batch);
  await Promise.all(running);
  if (failures.length > 0) throw failures[0];
  return summary;
}

/**
 * The commands of a batch whose address another active address already holds (the duplicate
 * guard's own key of the fields the registration would record), or an earlier command of the
 * batch has, by their index, with the error that names the holder: answered as duplicates
 * without being sent.
 * Each of them makes the guard refuse its whole batch. The guard stays the judge: a key taken
 * after this look is refused as before, and a command's own stream (a re-run) is not a holder.
 */
async function duplicatesIn(
  ledger: Ledger,
  commands: readonly RegisterAddress[],
): Promise<Map<number, DuplicateAddressError>> {
  const rows = commands.map((command, i) => {
    const { line1, line2, postalCode, country, owner } = normalizeFields(command.data.fields);
    return {
      i,
      s: addressStreamId(command.data.addressId),
      c: command.metadata.commandId,
      d: { line1, line2, postalCode, country, owner },
    };
  });
  // A row an earlier run imported is answered by its command's record (unchanged, or refused if
  // its values changed), whether or not this batch looked it up. Of two rows with one key, the
  // later is the duplicate of the earlier, as the guard decides within one statement.
  const sql = `WITH r AS (
      SELECT r.i, r.s, address_key(r.d->>'line1', r.d->>'line2', r.d->>'postalCode', r.d->>'country', r.d->>'owner') AS k
        FROM jsonb_to_recordset($1::jsonb) AS r(i int, s text, c text, d jsonb)
       WHERE NOT EXISTS (SELECT FROM processed_commands pc WHERE pc.command_id = r.c)
    ), w AS (
      SELECT r.*, first_value(r.s) OVER (PARTITION BY r.k ORDER BY r.i) AS first FROM r
    )
    SELECT w.i, coalesce(a.stream_id, w.first) AS stream_id
      FROM w LEFT JOIN address_keys a ON a.active AND a.key = w.k AND a.stream_id <> w.s
     WHERE a.stream_id IS NOT NULL OR w.first <> w.s`;
  const pool = poolOf(ledger.db);
  const found = pool
    ? (await pool.query<{ i: number; stream_id: string }>(sql, [JSON.stringify(rows)])).rows
    : await ledger.db.$queryRawUnsafe<{ i: number; stream_id: string }[]>(sql, JSON.stringify(rows));
  return new Map(
    found.map((r) => [r.i, new DuplicateAddressError(addressStreamId(commands[r.i]!.data.addressId), r.stream_id)]),
  );
}

/** What a real run would answer, from the idempotency records alone (read only). */
async function dryRunOutcomes(ledger: Ledger, batch: readonly RegisterAddress[]): Promise<BatchHandleOutcome[]> {
  const ids = batch.map((c) => c.metadata.commandId);
  const rows = await ledger.db.$queryRaw<{ command_id: string }[]>`
    SELECT command_id FROM processed_commands WHERE command_id = ANY(${ids}::text[])`;
  const known = new Set(rows.map((r) => r.command_id));
  return batch.map((c) => ({
    ok: true,
    result: {
      streamId: c.data.addressId,
      version: 1,
      position: null,
      appended: known.has(c.metadata.commandId) ? 0 : 1,
      replayed: known.has(c.metadata.commandId),
    },
  }));
}

function rejectionMessage(error: unknown, key: string): string {
  if (error instanceof IdempotencyKeyReusedError) {
    return `row key ${key} was imported before (or earlier in this file) with other values`;
  }
  if (error instanceof AddressAlreadyRegistered) return `${error.message} (by another command than this import)`;
  return errorMessage(error);
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
