import { z } from 'zod';
import type { FormState } from '@/app/_lib/form-state';
import { ADDRESS_FIELDS, type AddressFieldName, type AddressFields, fieldValue } from '@/domain/address';
import { addressChangesSchema, formatZodIssues, type ValidationIssue } from '@/lib/validation/address';
import { invalid } from './action-support';

/*
 * Reading an address form: its text entries, the fields the operator edited, and the parsed
 * target and fields, with every problem as the `invalid` result the form shows.
 */

export type FormValues = Record<string, string>;

/** The text entries of a submitted form (Next's own `$ACTION_*` keys and files dropped). */
export function formValues(formData: FormData): FormValues {
  const out: FormValues = {};
  for (const [key, value] of formData.entries()) {
    if (key.startsWith('$ACTION') || typeof value !== 'string') continue;
    out[key] = value;
  }
  return out;
}

/** A field as the form submitted it, cleaned the way the zod schema will (for comparing only). */
function cleanedFormValue(name: AddressFieldName, raw: string): string {
  const cleaned = raw.trim().normalize('NFC');
  if (name === 'country') return cleaned.toUpperCase();
  if (name === 'postalCode') return cleaned.replace(/\s+/g, ' ').toUpperCase();
  return cleaned;
}

/** An operator's field edit for the conflict merge: field → wanted value (`null` = not set). */
export type FieldEdit = Partial<Record<AddressFieldName, string | null>>;

/** The address fields the form holds (or only `names`), cleaned; an empty one is `null` (not set). */
export function fieldEdit(values: FormValues, names: readonly string[] = ADDRESS_FIELDS): FieldEdit {
  const out: FieldEdit = {};
  for (const name of ADDRESS_FIELDS) {
    const raw = values[name];
    if (raw !== undefined && names.includes(name)) out[name] = cleanedFormValue(name, raw) || null;
  }
  return out;
}

/**
 * The fields the operator actually edited, compared with the address as it stands, as the raw
 * form text (the zod schema cleans it afterwards). A field missing from the form is left alone;
 * an untouched field is not re-validated, so old data never blocks an unrelated edit.
 */
export function editedFields(current: AddressFields, values: FormValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ADDRESS_FIELDS) {
    const raw = values[name];
    if (raw === undefined) continue;
    if (cleanedFormValue(name, raw) !== (fieldValue(current, name) ?? '')) out[name] = raw;
  }
  return out;
}

/** The registration fields of the form (blank when missing), for the registration schema. */
export function registrationFields(values: FormValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ADDRESS_FIELDS) out[name] = values[name] ?? '';
  return out;
}

const target = z.object({
  addressId: z.uuid({ error: 'the form does not name an address; reload the page' }),
  expectedVersion: z.coerce.number({ error: 'the form lost its version; reload the page' }).int().min(1),
});
export const versionField = (label: string) =>
  z.coerce
    .number({ error: `choose ${label}` })
    .int({ error: `choose ${label}` })
    .min(1, { error: `choose ${label}` });

function paths(prefix: string, issues: ValidationIssue[]): ValidationIssue[] {
  return issues.map((i) => ({ ...i, path: i.path ? `${prefix}.${i.path}` : prefix }));
}

type Targeted<S extends Record<string, z.ZodType>> = z.output<typeof target> & { [K in keyof S]: z.output<S[K]> };

/**
 * Parses the form's target (its address id and version, hidden inputs whose issues belong to no
 * field) together with the named fields (`values[name]`, blank when missing), so one submit shows
 * every issue at once. The parsed values, or the `invalid` result for the form.
 */
export function parseTargeted<S extends Record<string, z.ZodType>>(
  values: FormValues,
  fields: S,
): Targeted<S> | FormState {
  const where = target.safeParse(values);
  const issues: ValidationIssue[] = where.success ? [] : formatZodIssues(where.error).map(formLevel);
  const data: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(fields)) {
    const parsed = schema.safeParse(values[name] ?? '');
    if (parsed.success) data[name] = parsed.data;
    else issues.push(...paths(name, formatZodIssues(parsed.error)));
  }
  if (!where.success || issues.length > 0) return invalid(values, issues);
  return { ...where.data, ...data } as Targeted<S>;
}

/** Issues about the hidden inputs belong to no visible field. */
function formLevel(issue: ValidationIssue): ValidationIssue {
  return { ...issue, path: '' };
}

/**
 * Validates the edited fields as a partial change. (A postal code changed without its country,
 * or the reverse, is checked against the stored address by the handler: `postalCodeFitsCountry`.)
 */
export function parseChanges(
  edited: Record<string, string>,
  values: FormValues,
): z.output<typeof addressChangesSchema> | FormState {
  const parsed = addressChangesSchema.safeParse(edited);
  if (!parsed.success) return invalid(values, formatZodIssues(parsed.error));
  return parsed.data;
}
