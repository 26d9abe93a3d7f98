import { createHash } from 'node:crypto';
import type { AddressFieldsInput } from '@/domain/address';

/**
 * Which CSV column feeds which part of an address, for `npm run import`. Besides the address
 * fields themselves, a file may split line 1 into house number and street (joined as
 * "12 Main Street") and give a unit (line 2 becomes "Unit 4B"), as the OpenStreetMap files do.
 * `key` identifies a row across runs (command ids derive from it); without one, the row's content is
 * its key, so an unchanged row is still recognised on a re-run.
 */
export const IMPORT_TARGETS = [
  'key',
  'houseNumber',
  'street',
  'line1',
  'unit',
  'line2',
  'city',
  'region',
  'postalCode',
  'country',
  'owner',
] as const;
export type ImportTarget = (typeof IMPORT_TARGETS)[number];

/** Target → the header it is read from. */
export type ColumnMapping = Partial<Record<ImportTarget, string>>;

export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
}

// Header names recognised without --map, compared lower-case with everything but letters and
// digits removed ("Postal Code", "postal_code" and "POSTALCODE" are one name). Earlier names win,
// so a file with both `region_code` (ME) and `region` (Maine) imports the code, as an operator
// would type it.
const SYNONYMS: Record<ImportTarget, readonly string[]> = {
  key: ['id', 'key', 'rowid', 'addressid', 'uid', 'uuid', 'ref', 'reference'],
  houseNumber: ['housenumber', 'houseno', 'addrhousenumber', 'streetnumber', 'number', 'hno', 'civicnumber'],
  street: ['street', 'streetname', 'addrstreet', 'road', 'thoroughfare'],
  line1: ['line1', 'addressline1', 'address1', 'addr1', 'streetaddress', 'address'],
  unit: ['unit', 'addrunit', 'apartment', 'apt', 'suite', 'flat', 'addrflats'],
  line2: ['line2', 'addressline2', 'address2', 'addr2'],
  city: ['city', 'addrcity', 'town', 'locality', 'municipality', 'place', 'village'],
  region: ['regioncode', 'statecode', 'provincecode', 'region', 'state', 'province', 'addrstate'],
  postalCode: ['postalcode', 'postcode', 'addrpostcode', 'zip', 'zipcode', 'postal', 'plz'],
  country: ['countrycode', 'country', 'addrcountry', 'iso2', 'countryiso'],
  owner: ['owner', 'ownername'],
};

const squash = (header: string) => header.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

export function isImportTarget(value: string): value is ImportTarget {
  return (IMPORT_TARGETS as readonly string[]).includes(value);
}

/**
 * The mapping for a header row: `--map` entries (column=target) first, then every target that is
 * still free from the first matching synonym. Refuses files it could not import (naming what is
 * missing), before a single row is read.
 */
export function resolveColumns(header: readonly string[], overrides: Readonly<Record<string, string>> = {}) {
  const mapping: ColumnMapping = {};
  const taken = new Set<string>();
  for (const [column, target] of Object.entries(overrides)) {
    if (!isImportTarget(target)) {
      throw new ImportFileError(
        `--map ${column}=${target}: unknown field "${target}" (one of ${IMPORT_TARGETS.join(', ')})`,
      );
    }
    if (!header.includes(column)) {
      throw new ImportFileError(`--map ${column}=${target}: the file has no column "${column}"`);
    }
    mapping[target] = column;
    taken.add(column);
  }
  const byName = new Map<string, string>();
  for (const column of header) if (!byName.has(squash(column))) byName.set(squash(column), column);
  for (const target of IMPORT_TARGETS) {
    if (mapping[target]) continue;
    const column = SYNONYMS[target].map((name) => byName.get(name)).find((c) => c !== undefined && !taken.has(c));
    if (column !== undefined) {
      mapping[target] = column;
      taken.add(column);
    }
  }
  // A line 1 column wins over house number + street only when it was found as such.
  if (mapping.line1 && mapping.street && !overrides[mapping.line1]) delete mapping.line1;

  const missing: string[] = [];
  if (!mapping.line1 && !mapping.street) missing.push('line 1 (or street)');
  if (!mapping.city) missing.push('city');
  if (!mapping.postalCode) missing.push('postal code');
  if (!mapping.country) missing.push('country');
  if (missing.length > 0) {
    throw new ImportFileError(
      `no column for ${missing.join(', ')} among the header names (${header.join(', ') || 'none'}); ` +
        'name them with --map column=field',
    );
  }
  return mapping;
}

/** The address fields and key of one row, as read through the mapping (validation comes later). */
export function rowToAddress(
  row: Readonly<Record<string, string>>,
  mapping: ColumnMapping,
): { key: string; fields: AddressFieldsInput } {
  const get = (target: ImportTarget) => {
    const column = mapping[target];
    return column === undefined ? '' : (row[column] ?? '').trim();
  };
  const line1 = mapping.line1 ? get('line1') : [get('houseNumber'), get('street')].filter(Boolean).join(' ');
  const unit = get('unit');
  const line2 = get('line2') || (unit ? `Unit ${unit}` : '');
  const fields: AddressFieldsInput = {
    line1,
    city: get('city'),
    postalCode: get('postalCode'),
    country: get('country'),
  };
  if (line2) fields.line2 = line2;
  if (get('region')) fields.region = get('region');
  if (get('owner')) fields.owner = get('owner');
  const key =
    get('key') ||
    `sha256:${createHash('sha256')
      .update(JSON.stringify(Object.values(row)))
      .digest('hex')}`;
  return { key, fields };
}

/** `--map a=b` values into `{a: 'b'}`; the column name may itself contain `=` up to the last one. */
export function parseMapOptions(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const at = value.lastIndexOf('=');
    if (at <= 0 || at === value.length - 1) throw new ImportFileError(`--map ${value}: expected column=field`);
    out[value.slice(0, at)] = value.slice(at + 1);
  }
  return out;
}

/** A source name (command ids are `import:<source>:<key>`): letters, digits, ".", "-" and "_". */
export const IMPORT_SOURCE_PATTERN = /^[\w.-]{1,100}$/;

/**
 * The source a file imports as when none is named: its name without directory and `.csv`/`.gz`,
 * with anything but letters, digits, ".", "-" and "_" made "-" (so `Mailing list (2).csv` is
 * `Mailing-list-2-`); the same file name is the same source, so uploading it again registers
 * nothing twice.
 */
export function importSourceFromFileName(fileName: string): string {
  const base = fileName
    .split(/[\\/]/)
    .at(-1)!
    .replace(/(\.csv)?(\.gz)?$/i, '');
  const source = base.replace(/[^\w.-]+/g, '-').slice(0, 100);
  return IMPORT_SOURCE_PATTERN.test(source) ? source : 'upload';
}
