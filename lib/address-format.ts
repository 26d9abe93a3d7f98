/**
 * Displays an address in its country's own format (line order, where the postal code goes, state
 * abbreviations, ...) using @fragaria/address-formatter (the OpenCage address templates).
 *
 * `line1` / `line2` are free text ("12 Main Street", "Apt 4"), not the road + house number the
 * templates expect, and the formatter's clean-up (it drops repeated comma-separated parts, e.g.
 * "Main St, Main St") must not touch them. So line1 goes in as an opaque token in the `road` slot
 * and is put back verbatim afterwards; line2 is inserted on the line after it. If a country's
 * template has no street at all (e.g. Antarctica), the lines are put first so nothing is lost.
 */
// Default import on purpose: the package's ES build only has a default export (its typings show
// named ones), and the CommonJS build's module.exports is the same object.
import addressFormatter from '@fragaria/address-formatter';

export interface FormattableAddress {
  line1: string;
  line2?: string | null;
  city: string;
  region?: string | null;
  postalCode: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  owner?: string | null;
}

export interface FormatAddressOptions {
  /** Add the country's name as the template places it (default false: domestic style). */
  appendCountry?: boolean;
  /** Put the owner on the attention line (default false: the owner is a reference, not a recipient). */
  includeOwner?: boolean;
}

const LINE1_TOKEN = 'QXLINE1TOKENQX';

/** The address as display lines, in the order and style of its country. */
export function formatAddress(fields: FormattableAddress, options: FormatAddressOptions = {}): string[] {
  const line1 = fields.line1.trim();
  const line2 = fields.line2?.trim() || undefined;
  const owner = options.includeOwner ? fields.owner?.trim() || undefined : undefined;
  let lines: string[];
  try {
    lines = addressFormatter.format(
      {
        road: LINE1_TOKEN,
        city: fields.city,
        postcode: fields.postalCode,
        countryCode: fields.country.toUpperCase(),
        ...(fields.region ? { state: fields.region } : {}),
        ...(owner ? { attention: owner } : {}),
      },
      { output: 'array', appendCountry: options.appendCountry ?? false },
    );
  } catch {
    return fallbackFormat(fields, { line1, line2, owner });
  }
  const at = lines.findIndex((line) => line.includes(LINE1_TOKEN));
  if (at === -1) {
    const rest = owner ? lines.filter((line) => line !== owner) : lines;
    return [...(owner ? [owner] : []), line1, ...(line2 ? [line2] : []), ...rest];
  }
  lines[at] = lines[at]!.replace(LINE1_TOKEN, () => line1);
  if (line2) lines.splice(at + 1, 0, line2);
  return lines;
}

/** The address as one string, lines joined with `separator` (default ", "). */
export function formatAddressInline(
  fields: FormattableAddress,
  options: FormatAddressOptions & { separator?: string } = {},
): string {
  return formatAddress(fields, options).join(options.separator ?? ', ');
}

function fallbackFormat(
  fields: FormattableAddress,
  parts: { line1: string; line2?: string; owner?: string },
): string[] {
  return [
    parts.owner,
    parts.line1,
    parts.line2,
    [fields.postalCode, fields.city].filter(Boolean).join(' '),
    fields.region || undefined,
    fields.country.toUpperCase(),
  ].filter((line): line is string => typeof line === 'string' && line !== '');
}
