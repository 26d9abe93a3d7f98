import { ADDRESS_FIELDS, type AddressFieldName, type AddressFields, fieldValue } from './fields';

/**
 * How one field comes out of a three-way merge of an edit decided on an old version (`base`)
 * with what others saved since (`theirs`, the current fields):
 * - `unchanged`: nobody touched it;
 * - `theirs`: only they changed it, their value stays;
 * - `mine`: only this edit changed it, this edit's value applies;
 * - `same`: both set it to the same value;
 * - `conflict`: both changed it, differently; a person must choose.
 */
export type MergeOutcome = 'unchanged' | 'theirs' | 'mine' | 'same' | 'conflict';

export interface FieldMerge {
  field: AddressFieldName;
  base: string | null;
  theirs: string | null;
  mine: string | null;
  outcome: MergeOutcome;
  /** The merged value; `null` for a conflict (nobody has chosen yet) or a cleared optional field. */
  merged: string | null;
}

/**
 * Merges, field by field, an edit (`mine`: the values the person wants, only the fields the form
 * holds; an absent field means "as it was") made on `base` with the `theirs` fields saved since.
 */
export function mergeFields(
  base: AddressFields,
  theirs: AddressFields,
  mine: Partial<Record<AddressFieldName, string | null>>,
): FieldMerge[] {
  return ADDRESS_FIELDS.map((field) => {
    const b = fieldValue(base, field);
    const t = fieldValue(theirs, field);
    const m = mine[field] === undefined ? b : emptyToNull(mine[field]);
    const theyChanged = t !== b;
    const iChanged = m !== b;
    const outcome: MergeOutcome = !theyChanged
      ? iChanged
        ? 'mine'
        : 'unchanged'
      : !iChanged
        ? 'theirs'
        : t === m
          ? 'same'
          : 'conflict';
    const merged = outcome === 'mine' ? m : outcome === 'conflict' ? null : t;
    return { field, base: b, theirs: t, mine: m, outcome, merged };
  });
}

function emptyToNull(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}
