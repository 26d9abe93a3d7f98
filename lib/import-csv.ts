import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type Parser, parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { stringify } from 'csv-stringify';
import {
  type ImportDuplicate,
  type ImportItem,
  type ImportOptions,
  type ImportRejection,
  type ImportSummary,
  importAddresses,
} from './import-addresses';
import { type ColumnMapping, ImportFileError, resolveColumns, rowToAddress } from './import-columns';
import type { Ledger } from './ledger';
import { neutraliseCell } from './spreadsheet-cell';
import type { ValidationIssue } from './validation/address';

export interface CsvImportProgress {
  /** Bytes of the file read so far (compressed bytes for .gz), against its size: the ETA's basis. */
  bytesRead: number;
  totalBytes: number;
  summary: Readonly<ImportSummary>;
}

export interface CsvImportOptions extends Omit<ImportOptions, 'onProgress'> {
  /** `--map` entries: column name → target (lib/import-columns.ts). */
  map?: Readonly<Record<string, string>>;
  /** Where to write the CSV of rejected rows (row, reasons, then the row's own columns). */
  reportFile?: string;
  /** Each row the report lists, as it is written there: the rejected rows and the duplicates. */
  onReported?: (row: ImportRejection) => void;
  onHeader?: (header: readonly string[], mapping: ColumnMapping) => void;
  onProgress?: (progress: CsvImportProgress) => void | Promise<void>;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * `npm run import` and the seed: a CSV (or gzip-compressed CSV, by its first bytes) of any size,
 * read as a stream. The file is read only as fast as rows are written (importAddresses' batches
 * in flight bound it), so memory stays flat however large the file is.
 */
export async function importCsvFile(ledger: Ledger, file: string, options: CsvImportOptions): Promise<ImportSummary> {
  const { totalBytes, gzipped, header: fileHeader } = await inspectCsvFile(file, options.map ?? {});
  // Opened before a row is written: a report that cannot be written fails the run at its start.
  const report = options.reportFile ? await openReport(options.reportFile, fileHeader) : null;
  const reported = (row: ImportRejection) => {
    report?.write(row);
    options.onReported?.(row);
  };
  let bytesRead = 0;
  const input = createReadStream(file);
  input.on('data', (chunk) => {
    bytesRead += chunk.length;
  });
  const parser = parse(CSV_OPTIONS);
  // Errors of any stage (unreadable file, broken gzip, bad quoting) end the row iteration below.
  const piped = pipeline([input, ...(gzipped ? [createGunzip()] : []), parser]).catch(() => {});

  try {
    const summary = await importAddresses(
      ledger,
      readRows(parser, options.map ?? {}, (header, mapping) => options.onHeader?.(header, mapping)),
      {
        ...options,
        onRejected: (rejection) => {
          reported(rejection);
          options.onRejected?.(rejection);
        },
        onDuplicate: (duplicate) => {
          reported(duplicateRejection(duplicate));
          options.onDuplicate?.(duplicate);
        },
        onProgress: (summary) => options.onProgress?.({ bytesRead, totalBytes, summary }),
      },
    );
    options.onProgress?.({ bytesRead, totalBytes, summary });
    return summary;
  } finally {
    input.destroy();
    await piped;
    await report?.close();
  }
}

/**
 * `relax_quotes`: a quote inside an unquoted value is a letter (12 O"Brien St), not the end of
 * the run. `max_record_size`: a quote that is never closed makes the rest of the file one value;
 * past 16 MiB (a row may carry a long notes column) that is an error naming the row instead of
 * the whole file held in memory.
 */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
const CSV_OPTIONS = {
  bom: true,
  relax_column_count: true,
  relax_quotes: true,
  skip_empty_lines: true,
  max_record_size: MAX_RECORD_BYTES,
} as const;

/** A row the duplicate guard refused, in the report: the rows not imported are all listed there. */
function duplicateRejection(duplicate: ImportDuplicate): ImportRejection {
  return {
    row: duplicate.row,
    key: duplicate.key,
    raw: duplicate.raw,
    reasons: [
      {
        path: '',
        message: `duplicate: the same address is registered already as ${duplicate.addressId} (not imported)`,
      },
    ],
  };
}

/** A parser error as the file's fault, naming the row it stopped at; `then` says what it left. */
function csvError(error: unknown, row: number, then = ''): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('CSV_')) return error;
  const where = `row ${row} (the row after ${row - 1})`;
  if (code === 'CSV_MAX_RECORD_SIZE' || code === 'CSV_QUOTE_NOT_CLOSED') {
    return new ImportFileError(
      `${where} opens a quote that is not closed${code === 'CSV_MAX_RECORD_SIZE' ? ' within 16 MiB' : ' before the end of the file'}${then}`,
    );
  }
  return new ImportFileError(`${where} is not valid CSV: ${(error as Error).message}${then}`);
}

/** The file's rows as import items; the header row decides the mapping (or refuses the file). */
async function* readRows(
  parser: Parser,
  overrides: Readonly<Record<string, string>>,
  onHeader: (header: readonly string[], mapping: ColumnMapping) => void,
): AsyncGenerator<ImportItem> {
  let header: string[] | null = null;
  let mapping: ColumnMapping = {};
  let row = 0;
  const records = (async function* () {
    try {
      yield* parser as AsyncIterable<string[]>;
    } catch (error) {
      throw csvError(error, row + 1, '; rows before it were imported, fix the file and run it again');
    }
  })();
  for await (const record of records) {
    if (!header) {
      header = record.map((name) => name.trim());
      mapping = resolveColumns(header, overrides);
      onHeader(header, mapping);
      continue;
    }
    row++;
    const raw: Record<string, string> = {};
    for (const [i, name] of header.entries()) raw[name] = record[i] ?? '';
    const problems: ValidationIssue[] = [];
    if (record.length !== header.length) {
      problems.push({ path: '', message: `the row has ${record.length} columns; the header has ${header.length}` });
    }
    // The decoder's replacement character: these bytes were not UTF-8, and a guess would store garbage.
    if (record.some((value) => value.includes('\uFFFD'))) {
      problems.push({ path: '', message: 'the row is not valid UTF-8 text' });
    }
    yield { row, raw, problems, ...rowToAddress(raw, mapping) };
  }
  if (!header) throw new ImportFileError('the file is empty: no header row');
  if (row === 0) throw new ImportFileError('the file has a header row but no rows of addresses');
}

/** The rejected-rows report (`--report`, and the upload page's download): its header record. */
export const reportHeader = (header: readonly string[]) => ['row', 'reasons', ...header];

/** Every reason of a rejected row in one cell. */
export const reportReasons = (reasons: readonly ValidationIssue[]) =>
  reasons.map((r) => (r.path ? `${r.path}: ${r.message}` : r.message)).join('; ');

/**
 * One rejected row of the report: its row number, its reasons, then its own columns as read, a
 * cell that a spreadsheet would run as a formula prefixed with an apostrophe (neutraliseCell).
 */
export const reportRecord = (
  header: readonly string[],
  row: number,
  reasons: string,
  raw: Readonly<Record<string, string>>,
) => [String(row), reasons, ...header.map((name) => neutraliseCell(raw[name] ?? ''))];

async function openReport(file: string, header: readonly string[]) {
  const out = createWriteStream(file);
  await new Promise<void>((resolve, reject) => {
    out.once('open', () => resolve());
    out.once('error', (error) =>
      reject(new ImportFileError(`cannot write the report ${file}: ${(error as Error).message}`)),
    );
  });
  const csv = stringify();
  csv.pipe(out);
  csv.write(reportHeader(header));
  return {
    write(rejection: ImportRejection) {
      csv.write(reportRecord(header, rejection.row ?? 0, reportReasons(rejection.reasons), rejection.raw ?? {}));
    },
    async close() {
      csv.end();
      await finished(out);
    },
  };
}

async function fileSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new ImportFileError(`${file} is not a file`);
    return s.size;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') throw new ImportFileError(`no such file: ${file}`);
    throw error;
  }
}

/** How much of the file's start is looked at before anything is written. */
const SNIFF_BYTES = 64 * 1024;

/**
 * Refuses, before a single row is written, a file that cannot be a UTF-8 CSV of addresses: empty,
 * UTF-16/32 (a byte-order mark, or NUL bytes between letters, as Excel's "Unicode text" saves),
 * binary (NUL bytes: a spreadsheet, a PDF, an image), not UTF-8, or without the address columns
 * (lib/import-columns.ts names what is missing). Without this a UTF-16 file was read as a header
 * of garbled names and refused with a message about missing columns nobody could act on.
 * Looks at the first 64 KiB (decompressed, for gzip); a bad byte further on rejects only its row.
 */
export async function inspectCsvFile(
  file: string,
  map: Readonly<Record<string, string>> = {},
): Promise<{ totalBytes: number; gzipped: boolean; header: string[] }> {
  const totalBytes = await fileSize(file);
  if (totalBytes === 0) throw new ImportFileError('the file is empty');
  const head = await readStart(file, SNIFF_BYTES);
  const gzipped = GZIP_MAGIC.every((b, i) => head[i] === b);
  const text = gzipped ? await gunzipStart(file) : head;
  if (text.length === 0) throw new ImportFileError('the file is empty');
  if (looksLikeUtf16(text)) {
    throw new ImportFileError('the file is UTF-16 text, not UTF-8; save it as CSV in UTF-8 and try again');
  }
  if (text.includes(0)) {
    throw new ImportFileError(
      'the file is not a CSV text file (it holds binary data; save a spreadsheet as CSV in UTF-8 first)',
    );
  }
  let decoded: string;
  try {
    // `stream: true`: a character cut at the 64 KiB boundary is not an error.
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(text, { stream: text.length >= SNIFF_BYTES });
  } catch {
    throw new ImportFileError('the file is not UTF-8 text; save it as CSV in UTF-8 and try again');
  }
  const firstLine = decoded.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  if (firstLine.trim() === '') throw new ImportFileError('the file has no header row: its first line is empty');
  let header: string[];
  try {
    header = (parseSync(firstLine, { relax_column_count: true }) as string[][])[0]?.map((n) => n.trim()) ?? [];
  } catch {
    throw new ImportFileError('the first line is not a CSV header row (check its quotes)');
  }
  resolveColumns(header, map);
  return { totalBytes, gzipped, header };
}

/**
 * The upload's check of the whole file before anything is written (uploads are at most 50 MB; the
 * CLI, for files of any size, checks the first 64 KiB and rejects a later bad row on its own): it
 * is UTF-8 throughout with no NUL byte, its quotes close, and it has a row of addresses. Without it a Latin-1 file
 * whose first accent came after 64 KiB was half imported, or a stray quote stopped a run midway.
 */
export async function checkWholeCsvFile(file: string): Promise<void> {
  const { gzipped } = await inspectCsvFile(file);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  const utf8 = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      // Postgres text holds no NUL: a row with one would fail where its reasons are stored.
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        done(new ImportFileError(`the file holds a NUL byte (byte ${offset + nul}); it is not a CSV text file`));
        return;
      }
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        done(
          new ImportFileError(
            `the file is not UTF-8 text (a bad byte after byte ${offset}); save it as CSV in UTF-8 and try again`,
          ),
        );
        return;
      }
      offset += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      try {
        decoder.decode();
        done();
      } catch {
        done(
          new ImportFileError(
            'the file is not UTF-8 text (it ends inside a character); save it as CSV in UTF-8 and try again',
          ),
        );
      }
    },
  });
  const parser = parse(CSV_OPTIONS);
  let records = 0;
  const count = new Writable({
    objectMode: true,
    write(_record, _encoding, done) {
      records++;
      done();
    },
  });
  try {
    await pipeline([createReadStream(file), ...(gzipped ? [createGunzip()] : []), utf8, parser, count]);
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    const mapped = csvError(error, records);
    if (mapped instanceof ImportFileError) throw mapped;
    throw new ImportFileError('the file cannot be read as CSV (is it compressed or damaged?)');
  }
  if (records < 2) throw new ImportFileError('the file has a header row but no rows of addresses');
}

/** A byte-order mark, or (without one) NUL bytes in every other place of the first 200 bytes. */
function looksLikeUtf16(text: Buffer): boolean {
  if ((text[0] === 0xff && text[1] === 0xfe) || (text[0] === 0xfe && text[1] === 0xff)) return true;
  const pairs = Math.floor(Math.min(200, text.length) / 2);
  let little = 0;
  let big = 0;
  for (let i = 0; i < pairs; i++) {
    const [a, b] = [text[2 * i]!, text[2 * i + 1]!];
    if (a !== 0 && b === 0) little++;
    else if (a === 0 && b !== 0) big++;
  }
  return pairs > 0 && Math.max(little, big) >= pairs * 0.9;
}

async function readStart(file: string, bytes: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function gunzipStart(file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const input = createReadStream(file);
  const gunzip = createGunzip();
  try {
    for await (const chunk of input.pipe(gunzip) as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= SNIFF_BYTES) break;
    }
  } catch {
    throw new ImportFileError('the file looks gzip-compressed but cannot be decompressed');
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return Buffer.concat(chunks).subarray(0, SNIFF_BYTES);
}
