import { createHash } from 'node:crypto';
import { type AddressFieldsInput, addressIdFromStream } from '@/domain/address';
import { DuplicateAddressError } from '@/domain/event-store/errors';
import type { Actor } from '@/domain/messages';
import type { Ledger } from './ledger';
import { addressFieldsSchema, formatZodIssues, type ValidationIssue } from './validation/address';

export interface ImportItem {
  /** Stable key of the source row: the same key is the same address, so re-running appends nothing. */
  key: string;
  fields: AddressFieldsInput;
}

export interface ImportReport {
  registered: number;
  /** Already imported by an earlier run (same key): nothing appended. */
  unchanged: number;
  /**
   * Rows that are the same address as another active one (the duplicate guard: same normalised
   * line 1, line 2, postal code, country and owner), not imported; `addressId` is the existing one.
   * Not failures: the address is in the register already, under that id.
   */
  duplicates: Array<{ key: string; addressId: string }>;
  rejected: Array<{ key: string; issues: ValidationIssue[] }>;
}

/** A UUID derived from the source key, so an address keeps its id across re-runs of an import. */
export function importedAddressId(source: string, key: string): string {
  const h = createHash('sha256').update(`${source}\n${key}`).digest('hex');
  // RFC 9562 version 8 (custom) with the RFC variant bits.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Registers addresses from another source through the command handler, like any other command:
 * validated at the boundary (rows that fail are reported, not imported), recorded with
 * `source: import` and the importing actor, idempotent per source row.
 */
export async function importAddresses(
  ledger: Ledger,
  items: readonly ImportItem[],
  options: { source: string; actor: Actor; concurrency?: number; onProgress?: (done: number, total: number) => void },
): Promise<ImportReport> {
  const report: ImportReport = { registered: 0, unchanged: 0, duplicates: [], rejected: [] };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      const parsed = addressFieldsSchema.safeParse(item.fields);
      if (!parsed.success) {
        report.rejected.push({ key: item.key, issues: formatZodIssues(parsed.error) });
      } else {
        const commandId = `import:${options.source}:${item.key}`;
        try {
          const result = await ledger.handle({
            type: 'RegisterAddress',
            data: { addressId: importedAddressId(options.source, item.key), fields: parsed.data },
            metadata: { commandId, correlationId: `import:${options.source}`, actor: options.actor, source: 'import' },
          });
          if (result.appended > 0) report.registered++;
          else report.unchanged++;
        } catch (error) {
          if (!(error instanceof DuplicateAddressError)) throw error;
          report.duplicates.push({ key: item.key, addressId: addressIdFromStream(error.existingStreamId) });
        }
      }
      options.onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  return report;
}
