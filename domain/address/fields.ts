/**
 * The fields of an address and the pure helpers that compare and apply changes to them.
 *
 * Null semantics (one rule everywhere): in a set of changes (`ChangeAddress.changes`,
 * `CorrectAddress.fields`, and the `AddressChanged` / `AddressCorrected` events) a key that is
 * absent (or `undefined`) means "leave this field alone"; a key whose value is `null` clears an
 * optional field (`line2`, `region`, `owner`). Required fields (`line1`, `city`, `postalCode`,
 * `country`) can never be null or blank. In `AddressFields` itself (state, registration) an unset
 * optional field is simply absent; `null` is tolerated on input and treated as absent.
 */

export const REQUIRED_FIELDS = ['line1', 'city', 'postalCode', 'country'] as const;
export const OPTIONAL_FIELDS = ['line2', 'region', 'owner'] as const;
/** Every field, in display order. */
export const ADDRESS_FIELDS = ['line1', 'line2', 'city', 'region', 'postalCode', 'country', 'owner'] as const;

export type RequiredFieldName = (typeof REQUIRED_FIELDS)[number];
export type OptionalFieldName = (typeof OPTIONAL_FIELDS)[number];
export type AddressFieldName = (typeof ADDRESS_FIELDS)[number];

export interface AddressFields {
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  /** Free-text reference of the party the address belongs to. */
  owner?: string;
}

/** Fields as a caller may supply them on registration: optional fields may also be `null` (= not set). */
export type AddressFieldsInput = { [K in RequiredFieldName]: string } & {
  [K in OptionalFieldName]?: string | null;
};

/** A set of changes: absent = unchanged, `null` = clear an optional field. */
export type AddressFieldChanges = { [K in RequiredFieldName]?: string } & {
  [K in OptionalFieldName]?: string | null;
};

const OPTIONAL_SET: ReadonlySet<string> = new Set(OPTIONAL_FIELDS);

export function isOptionalField(name: AddressFieldName): name is OptionalFieldName {
  return OPTIONAL_SET.has(name);
}

/** The value of a field, with an unset optional field read as `null`. */
export function fieldValue(fields: AddressFields, name: AddressFieldName): string | null {
  return fields[name] ?? null;
}

/** A copy with `null`/`undefined` optional fields removed and unknown keys dropped. */
export function normalizeFields(input: AddressFieldsInput): AddressFields {
  const out: AddressFields = {
    line1: input.line1,
    city: input.city,
    postalCode: input.postalCode,
    country: input.country,
  };
  for (const name of OPTIONAL_FIELDS) {
    const value = input[name];
    if (typeof value === 'string') out[name] = value;
  }
  return orderFields(out);
}

/** Only the known field keys that are present (value not `undefined`), in display order. */
export function presentChanges(changes: AddressFieldChanges): AddressFieldChanges {
  const out: Record<string, string | null> = {};
  for (const name of ADDRESS_FIELDS) {
    const value = changes[name];
    if (value !== undefined) out[name] = value;
  }
  return out as AddressFieldChanges;
}

/** The subset of `changes` that would actually alter `fields` (absent and `null` optional are equal). */
export function effectiveChanges(fields: AddressFields, changes: AddressFieldChanges): AddressFieldChanges {
  const out: Record<string, string | null> = {};
  for (const name of ADDRESS_FIELDS) {
    const value = changes[name];
    if (value === undefined) continue;
    if (value !== fieldValue(fields, name)) out[name] = value;
  }
  return out as AddressFieldChanges;
}

/** Applies changes; `null` removes an optional field. Required fields are never removed. */
export function applyChanges(fields: AddressFields, changes: AddressFieldChanges): AddressFields {
  const out: AddressFields = { ...fields };
  for (const name of ADDRESS_FIELDS) {
    const value = changes[name];
    if (value === undefined) continue;
    if (value === null) {
      if (isOptionalField(name)) delete out[name];
      continue;
    }
    out[name] = value;
  }
  return orderFields(out);
}

/** Names of the fields whose values differ between two snapshots (`null` snapshot = no fields). */
export function changedFieldNames(before: AddressFields | null, after: AddressFields | null): AddressFieldName[] {
  return ADDRESS_FIELDS.filter(
    (name) => (before ? fieldValue(before, name) : null) !== (after ? fieldValue(after, name) : null),
  );
}

export function isEmptyChanges(changes: AddressFieldChanges): boolean {
  return ADDRESS_FIELDS.every((name) => changes[name] === undefined);
}

function orderFields(fields: AddressFields): AddressFields {
  const out: Record<string, string> = {};
  for (const name of ADDRESS_FIELDS) {
    const value = fields[name];
    if (value !== undefined) out[name] = value;
  }
  return out as unknown as AddressFields;
}
