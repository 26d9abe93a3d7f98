import { ADDRESS_FIELDS, type AddressFields } from '@/domain/address';
import { formatAddress } from '@/lib/address-format';
import { countryName } from '../_lib/address.server';
import { FIELD_LABELS } from '../_lib/labels';

/** The address as its country writes it, followed by the country's name. */
export function FormattedAddress({ fields }: { fields: AddressFields }) {
  const lines = formatAddress(fields, { appendCountry: false });
  return (
    <address className="formatted-address">
      {lines.map((line, i) => (
        // Lines of one address never reorder, so their position is a stable key.
        // biome-ignore lint/suspicious/noArrayIndexKey: fixed order
        <span key={i} className="address-line">
          {line}
        </span>
      ))}
      <span className="address-line address-country">{countryName(fields.country)}</span>
    </address>
  );
}

/** Every field with its stored value (empty optional fields shown as such). */
export function FieldTable({ fields }: { fields: AddressFields }) {
  return (
    <dl className="field-table">
      {ADDRESS_FIELDS.map((name) => (
        <div key={name}>
          <dt>{FIELD_LABELS[name]}</dt>
          <dd>
            {!fields[name] ? (
              <span className="empty">not set</span>
            ) : name === 'country' ? (
              `${countryName(fields.country)} (${fields.country})`
            ) : (
              fields[name]
            )}
          </dd>
        </div>
      ))}
    </dl>
  );
}

// In its own file so the search page's client components can use it without this file's server imports.
export { StatusBadge } from './status-badge';
