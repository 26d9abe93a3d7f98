import { createHash } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { ADDRESS_FIELDS } from '@/domain/address';
import type { Db } from '@/lib/db';
import { neutraliseCell } from '@/lib/spreadsheet-cell';
import { auditBatches, describeEvents, startCursor } from './audit-log.server';
import type { AuditRow } from './audit-rows';
import type { AuditFilter, Term } from './qualifiers';
import { formatQuery } from './qualifiers';

/**
 * Exports of the filtered audit log, streamed from the database in keyset batches of one
 * snapshot (so memory stays flat however many rows, and the file is one consistent point in
 * time), newest first like the page.
 *
 * Both formats end with a manifest line (README "Audit log"): the filter, the row count, the
 * first and last position, the snapshot, the time, and `sha256`, the SHA-256 of every byte of
 * the file before the manifest line. The recipient drops the last line, hashes the rest and
 * compares. NDJSON: the last line is `{"manifest":{…}}`. CSV: the last line is the record
 * `# manifest,<manifest JSON>` (a comment to parsers that know `#`, one row to a spreadsheet).
 */

export type ExportFormat = 'csv' | 'ndjson';

export interface ExportManifest {
  format: ExportFormat;
  filter: { q: string };
  rows: number;
  firstPosition: string | null;
  lastPosition: string | null;
  snapshot: string;
  generatedAt: string;
  sha256: string;
  hashed: 'every byte before the manifest line';
}

export const CSV_COLUMNS = [
  'position',
  'recorded_at',
  'address_id',
  'version',
  'type',
  'event',
  'summary',
  'actor_id',
  'actor_name',
  'actor_role',
  'acted_via',
  'token_or_session_name',
  'source',
  'reason',
  'correlation_id',
  ...ADDRESS_FIELDS.flatMap((f) => [`${f}_before`, `${f}_after`]),
] as const;

function csvRecord(row: AuditRow): string[] {
  const changed = new Map(row.changes.map((d) => [d.field, d]));
  return [
    row.position,
    row.recordedAt,
    row.addressId,
    String(row.version),
    row.type,
    row.label,
    row.summary,
    row.actor.id,
    row.actor.name,
    row.actor.role,
    row.via.kind,
    row.via.name,
    row.source,
    row.reason ?? '',
    row.correlationId,
    ...ADDRESS_FIELDS.flatMap((f) => {
      const d = changed.get(f);
      return [d?.before ?? '', d?.after ?? ''];
    }),
  ].map(neutraliseCell);
}

const csv = (records: string[][]) => stringify(records, { eof: true });

export interface ExportHandle {
  stream: ReadableStream<Uint8Array>;
  /** Settles when the stream has ended (fully or cancelled), with what it sent. */
  finished: Promise<{ rows: number; complete: boolean; manifest: ExportManifest | null }>;
}

/** The export as a byte stream; reads the next batch only when the reader wants more. */
export async function exportAudit(
  db: Db,
  filter: AuditFilter,
  terms: readonly Term[],
  format: ExportFormat,
  options: { batchSize?: number; now?: () => Date } = {},
): Promise<ExportHandle> {
  const { snapshot } = await startCursor(db);
  const batches = auditBatches(db, filter, { snapshot, batchSize: options.batchSize });
  const hash = createHash('sha256');
  const encoder = new TextEncoder();
  let rows = 0;
  let first: string | null = null;
  let last: string | null = null;
  let settle!: (r: { rows: number; complete: boolean; manifest: ExportManifest | null }) => void;
  const finished = new Promise<Parameters<typeof settle>[0]>((resolve) => {
    settle = resolve;
  });

  const emit = (controller: ReadableStreamDefaultController<Uint8Array>, text: string, hashed = true) => {
    const bytes = encoder.encode(text);
    if (hashed) hash.update(bytes);
    controller.enqueue(bytes);
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // The BOM lets spreadsheet programs read the file as UTF-8.
        if (format === 'csv') emit(controller, `\uFEFF${csv([[...CSV_COLUMNS]])}`);
      },
      async pull(controller) {
        try {
          const next = await batches.next();
          if (!next.done) {
            const described = await describeEvents(db, next.value);
            first ??= described[0]?.position ?? null;
            last = described.at(-1)?.position ?? last;
            rows += described.length;
            emit(
              controller,
              format === 'csv'
                ? csv(described.map(csvRecord))
                : described.map((r) => `${JSON.stringify(r)}\n`).join(''),
            );
            return;
          }
          const manifest: ExportManifest = {
            format,
            filter: { q: formatQuery(terms) },
            rows,
            firstPosition: first,
            lastPosition: last,
            snapshot,
            generatedAt: (options.now?.() ?? new Date()).toISOString(),
            sha256: hash.digest('hex'),
            hashed: 'every byte before the manifest line',
          };
          emit(
            controller,
            format === 'csv' ? csv([['# manifest', JSON.stringify(manifest)]]) : `${JSON.stringify({ manifest })}\n`,
            false,
          );
          controller.close();
          settle({ rows, complete: true, manifest });
        } catch (error) {
          settle({ rows, complete: false, manifest: null });
          controller.error(error);
        }
      },
      async cancel() {
        await batches.return(undefined);
        settle({ rows, complete: false, manifest: null });
      },
    },
    // One batch ahead at most: the database is read as fast as the client takes the bytes.
    { highWaterMark: 1 },
  );
  return { stream, finished };
}
