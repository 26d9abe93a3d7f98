/**
 * Boundary validation for address input (HTTP bodies, forms, imports), with zod 4.
 *
 * Every text field is trimmed, normalised to Unicode NFC, refused if it holds control characters,
 * line breaks or invisible characters (see FORBIDDEN_CHARACTERS), and limited in length. Messages
 * are sentences a person can act on; `formatZodIssues` turns a ZodError into the API's
 * `validation_failed` details (`{ path: 'changes.postalCode', message }`).
 *
 * Blank optional fields:
 * - in `addressFieldsSchema` (registration) a blank `line2` / `region` / `owner` becomes `undefined`
 *   (not set); `null` is accepted and means the same;
 * - in `addressChangesSchema` (a partial change or correction) a blank optional field becomes
 *   `null`, which the domain reads as "clear this field" — a person who empties a form field means
 *   to clear it. An absent key means "leave unchanged". Required fields cannot be null or blank.
 */
import countries from 'i18n-iso-countries';
import { postcodeValidator, postcodeValidatorExistsForCountry } from 'postcode-validator';
import { z } from 'zod';
import { hasForbiddenCharacters } from './forbidden-characters';

// Also offered here, beside the other address rules its callers use.
export { hasForbiddenCharacters };

export const FIELD_LIMITS = {
  line1: 200,
  line2: 200,
  city: 100,
  region: 100,
  postalCode: 20,
  country: 2,
  owner: 200,
  reason: 500,
} as const;

/** Human names for messages. */
export const FIELD_LABELS = {
  line1: 'address line 1',
  line2: 'address line 2',
  city: 'city',
  region: 'region',
  postalCode: 'postal code',
  country: 'country',
  owner: 'owner',
  reason: 'reason',
} as const;

type LabelledField = keyof typeof FIELD_LABELS;

/** A cleaned text value: trimmed, NFC, no control characters, at most `max` characters. */
function text(field: LabelledField, options: { required: boolean; nullError?: string }) {
  const label = FIELD_LABELS[field];
  const max = FIELD_LIMITS[field];
  const schema = z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? `${label} is required`
          : issue.input === null && options.nullError
            ? options.nullError
            : `${label} must be text`,
    })
    .trim()
    .normalize('NFC')
    .refine((value) => !hasForbiddenCharacters(value), {
      error: `${label} must not contain control characters, line breaks or invisible characters`,
    })
    .max(max, { error: `${label} must be at most ${max} characters` });
  return options.required ? schema.min(1, { error: `${label} is required` }) : schema;
}

const blankToUndefined = (value: string): string | undefined => (value === '' ? undefined : value);
const blankToNull = (value: string): string | null => (value === '' ? null : value);

// --- country and postal code ---------------------------------------------------------------

const COUNTRY_MESSAGE = 'country must be an ISO 3166-1 alpha-2 code such as US or DE';

/** True for an ISO 3166-1 alpha-2 code (either case); alpha-3 and numeric codes are not accepted. */
export function isCountryCode(value: string): boolean {
  return /^[A-Za-z]{2}$/.test(value) && countries.isValid(value.toUpperCase());
}

/** ISO 3166-1 alpha-2, any case in, upper case out. */
export const countrySchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'country is required' : COUNTRY_MESSAGE) })
  .trim()
  .toUpperCase()
  .refine(isCountryCode, { error: COUNTRY_MESSAGE });

const POSTAL_CODE_SHAPE = /^[\p{L}\p{N}](?:[\p{L}\p{N} -]*[\p{L}\p{N}])?$/u;

/** Postal code on its own: letters, digits, single spaces and hyphens; upper-cased (AB1 2CD). */
export const postalCodeSchema = text('postalCode', { required: true })
  .transform((value) => value.replace(/\s+/g, ' ').toUpperCase())
  .refine((value) => value === '' || POSTAL_CODE_SHAPE.test(value), {
    error: 'postal code may contain only letters, digits, spaces and hyphens',
  });

/**
 * Checks a postal code against the country's format, where one is known. Returns the message to
 * show (for the `postalCode` path), or `null` when it is valid, when the country has no known
 * format, or when the country itself is not a valid code (the country check reports that).
 *
 * For partial changes use `validateChangedPostalCode`.
 */
export function validatePostalCodeFor(country: string, postalCode: string): string | null {
  const code = country.trim().toUpperCase();
  const postal = postalCode.trim().replace(/\s+/g, ' ').toUpperCase();
  if (!isCountryCode(code) || !postcodeValidatorExistsForCountry(code)) return null;
  return postcodeValidator(postal, code) ? null : `postal code ${postal} is not valid for ${code}`;
}

/**
 * A partial change that touches only `postalCode` or only `country` is checked as the pair the
 * address will end up with, the other value taken from its current fields (when both change, the
 * changes schema checks them itself). Message for the `postalCode` path, or `null`.
 */
export function validateChangedPostalCode(
  current: { country: string; postalCode: string } | null | undefined,
  changes: { country?: string | null; postalCode?: string | null },
): string | null {
  if (!current || (changes.country == null) === (changes.postalCode == null)) return null;
  return validatePostalCodeFor(changes.country ?? current.country, changes.postalCode ?? current.postalCode);
}

/** Input refused at the boundary by a rule that needed the stored address; API and forms show `issues`. */
export class InvalidInputError extends Error {
  readonly code = 'validation_failed';
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'InvalidInputError';
  }
}

/**
 * The one place of the rule "a postal code fits the country the address will have", for a
 * partial change or correction under `path` (`changes`, `fields`): a check the command handler
 * runs on the state it decides on (`handle(command, { check })`), so the stream is read once.
 */
export function postalCodeFitsCountry(
  changes: { country?: string | null; postalCode?: string | null },
  path: string,
): (state: { fields: { country: string; postalCode: string } | null }) => void {
  return (state) => {
    const message = validateChangedPostalCode(state.fields, changes);
    if (message) throw new InvalidInputError([{ path: `${path}.postalCode`, message }]);
  };
}

// --- fields ------------------------------------------------------------------------------------

/** One schema per field (registration flavour), for forms that validate field by field. */
export const addressFieldSchemas = {
  line1: text('line1', { required: true }),
  line2: text('line2', { required: false }).transform(blankToUndefined).nullable().optional(),
  city: text('city', { required: true }),
  region: text('region', { required: false }).transform(blankToUndefined).nullable().optional(),
  postalCode: postalCodeSchema,
  country: countrySchema,
  owner: text('owner', { required: false }).transform(blankToUndefined).nullable().optional(),
};

const FIELD_NAMES = ['line1', 'line2', 'city', 'region', 'postalCode', 'country', 'owner'] as const;

function objectError(what: string) {
  return (issue: { code?: string; input?: unknown }) =>
    issue.code === 'invalid_type' ? `${what} must be a JSON object` : undefined;
}

function checkPostalCode(value: { country?: string | null; postalCode?: string | null }, ctx: z.RefinementCtx) {
  if (!value.country || !value.postalCode) return;
  const message = validatePostalCodeFor(value.country, value.postalCode);
  if (message) ctx.addIssue({ code: 'custom', path: ['postalCode'], message });
}

/** Register body: all required fields; optional ones may be omitted, null or blank (= not set). */
export const addressFieldsSchema = z
  .strictObject(addressFieldSchemas, { error: objectError('the address') })
  .transform((fields) => {
    // `null` on input means "not set": leave the key out, as the domain stores it.
    const out: Record<string, string> = {};
    for (const name of FIELD_NAMES) {
      const value = fields[name];
      if (typeof value === 'string') out[name] = value;
    }
    return out as {
      line1: string;
      line2?: string;
      city: string;
      region?: string;
      postalCode: string;
      country: string;
      owner?: string;
    };
  })
  .superRefine(checkPostalCode);

export type AddressFieldsBody = z.output<typeof addressFieldsSchema>;

const clearedRequired = (field: LabelledField) => `${FIELD_LABELS[field]} is required and cannot be cleared`;

/**
 * A partial change or correction: at least one field; absent = unchanged; `null` or blank on an
 * optional field = clear it. When both country and postal code are in the change they are checked
 * together here; when only one is, use `validateChangedPostalCode` with the current fields.
 */
export const addressChangesSchema = z
  .strictObject(
    {
      line1: text('line1', { required: true, nullError: clearedRequired('line1') }).optional(),
      line2: text('line2', { required: false }).transform(blankToNull).nullable().optional(),
      city: text('city', { required: true, nullError: clearedRequired('city') }).optional(),
      region: text('region', { required: false }).transform(blankToNull).nullable().optional(),
      postalCode: z
        .string({
          error: (issue) => (issue.input === null ? clearedRequired('postalCode') : 'postal code must be text'),
        })
        .pipe(postalCodeSchema)
        .optional(),
      country: z
        .string({ error: (issue) => (issue.input === null ? clearedRequired('country') : COUNTRY_MESSAGE) })
        .pipe(countrySchema)
        .optional(),
      owner: text('owner', { required: false }).transform(blankToNull).nullable().optional(),
    },
    { error: objectError('the changes') },
  )
  .refine((changes) => Object.values(changes).some((value) => value !== undefined), {
    error: 'change at least one field',
  })
  .superRefine(checkPostalCode);

export type AddressChangesBody = z.output<typeof addressChangesSchema>;

/** A required reason (archive, correct, revert): non-blank, at most 500 characters. */
export const reasonSchema = text('reason', { required: true });

/** An optional reason (change, restore): blank becomes `undefined`. */
export const optionalReasonSchema = text('reason', { required: false }).transform(blankToUndefined).optional();

// --- error formatting ------------------------------------------------------------------------

export interface ValidationIssue {
  /** Dotted path into the input, e.g. `changes.postalCode`; '' for the whole input. */
  path: string;
  message: string;
}

/** Turns a ZodError into `[{path, message}]` for the API's `validation_failed` details. */
export function formatZodIssues(error: z.ZodError): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: path ? `${path}.${key}` : key, message: `${key} is not a field we know` });
      }
      continue;
    }
    out.push({ path, message: issue.message });
  }
  return out;
}
