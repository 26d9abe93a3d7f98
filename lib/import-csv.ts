import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { type Parser, parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { type ImportItem, type ImportOptions, type ImportSummary, importAddresses } from './import-addresses';
import { type ColumnMapping, ImportFileError, resolveColumns, rowToAddress } from './import-columns';
import type { Ledger } from './ledger';
import type { ValidationIssue } from './validation/address';

export interface CsvImportProgress {
  /** Bytes of the file read so far (compressed bytes for .gz), against its size: the ETA's basis. */
  bytesRead: number;
  totalBytes: number;
  summary: Readonly<ImportSummary>;
}

export interface CsvImportOptions extends Omit<ImportOptions, 'onProgress' | 'onRejected'> {
  /** `--map` entries: column name → target (lib/import-columns.ts). */
  map?: Readonly<Record<string, string>>;
  /** Where to write the CSV of rejected rows (row, reasons, then the row's own columns). */
  reportFile?: string;
  onHeader?: (header: readonly string[], mapping: ColumnMapping) => void;
  onProgress?: (progress: CsvImportProgress) => void;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/**
 * `npm run import` and the seed: a CSV (or gzip-compressed CSV, by its first bytes) of any size,
 * read as a stream. The file is read only as fast as rows are written (importAddresses' batches
 * in flight bound it), so memory stays flat however large the file is.
 */
export async function importCsvFile(ledger: Ledger, file: string, options: CsvImportOptions): Promise<ImportSummary> {
  const totalBytes = await fileSize(file);
  const gzipped = await startsWith(file, GZIP_MAGIC);
  let bytesRead = 0;
  const input = createReadStream(file);
  input.on('data', (chunk) => {
    bytesRead += chunk.length;
  });
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true });
  // Errors of any stage (unreadable file, broken gzip, bad quoting) end the row iteration below.
  const piped = pipeline([input, ...(gzipped ? [createGunzip()] : []), parser]).catch(() => {});

  let report: ReturnType<typeof openReport> | null = null;
  try {
    const summary = await importAddresses(
      ledger,
      readRows(parser, options.map ?? {}, (header, mapping) => {
        if (options.reportFile) report = openReport(options.reportFile, header);
        options.onHeader?.(header, mapping);
      }),
      {
        ...options,
        onRejected: (rejection) => report?.write(rejection.row ?? 0, rejection.reasons, rejection.raw ?? {}),
        onProgress: (summary) => options.onProgress?.({ bytesRead, totalBytes, summary }),
      },
    );
    options.onProgress?.({ bytesRead, totalBytes, summary });
    return summary;
  } finally {
    input.destroy();
    await piped;
    await (report as ReturnType<typeof openReport> | null)?.close();
  }
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
  for await (const record of parser as AsyncIterable<string[]>) {
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
}

function openReport(file: string, header: readonly string[]) {
  const out = createWriteStream(file);
  const csv = stringify();
  csv.pipe(out);
  csv.write(['row', 'reasons', ...header]);
  return {
    write(row: number, reasons: readonly ValidationIssue[], raw: Readonly<Record<string, string>>) {
      const text = reasons.map((r) => (r.path ? `${r.path}: ${r.message}` : r.message)).join('; ');
      csv.write([row, text, ...header.map((name) => raw[name] ?? '')]);
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

async function startsWith(file: string, bytes: readonly number[]): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes.length);
    const { bytesRead } = await handle.read(buffer, 0, bytes.length, 0);
    return bytesRead === bytes.length && bytes.every((b, i) => buffer[i] === b);
  } finally {
    await handle.close();
  }
}
