import { describe, expect, it } from 'vitest';
import { formatAddress, formatAddressInline } from './address-format';

describe('formatAddress', () => {
  it('formats a US address with city, state and ZIP on one line', () => {
    expect(
      formatAddress({ line1: '12 Main Street', city: 'Springfield', region: 'IL', postalCode: '62701', country: 'US' }),
    ).toEqual(['12 Main Street', 'Springfield, IL 62701']);
  });

  it('formats a German address with the postal code before the city', () => {
    expect(formatAddress({ line1: 'Hauptstraße 5', city: 'Berlin', postalCode: '10115', country: 'DE' })).toEqual([
      'Hauptstraße 5',
      '10115 Berlin',
    ]);
  });

  it('puts line2 on the line after line1', () => {
    expect(
      formatAddress({
        line1: '12 Main Street',
        line2: 'Apt 4',
        city: 'Springfield',
        region: 'IL',
        postalCode: '62701',
        country: 'US',
      }),
    ).toEqual(['12 Main Street', 'Apt 4', 'Springfield, IL 62701']);
  });

  it('keeps line1 exactly as written, even where the formatter would tidy it', () => {
    const lines = formatAddress({
      line1: 'Main St, Main St & $1 <b>',
      city: 'Berlin',
      postalCode: '10115',
      country: 'DE',
    });
    expect(lines[0]).toBe('Main St, Main St & $1 <b>');
  });

  it('appends the country name when asked', () => {
    expect(
      formatAddress(
        { line1: 'Hauptstraße 5', city: 'Berlin', postalCode: '10115', country: 'de' },
        { appendCountry: true },
      ),
    ).toEqual(['Hauptstraße 5', '10115 Berlin', 'Germany']);
  });

  it('puts the owner on the attention line only when asked', () => {
    const fields = { line1: '1 Rue de Rivoli', city: 'Paris', postalCode: '75001', country: 'FR', owner: 'ACME SA' };
    expect(formatAddress(fields)).toEqual(['1 Rue de Rivoli', '75001 Paris']);
    expect(formatAddress(fields, { includeOwner: true })).toEqual(['ACME SA', '1 Rue de Rivoli', '75001 Paris']);
  });

  it('never loses line1, even where the country template has no street', () => {
    const lines = formatAddress({
      line1: 'McMurdo Station',
      line2: 'Hut 2',
      city: 'Ross Island',
      postalCode: '1',
      country: 'AQ',
    });
    expect(lines.slice(0, 2)).toEqual(['McMurdo Station', 'Hut 2']);
    expect(lines).toContain('Ross Island');
  });

  it('joins the lines for a one-line display', () => {
    expect(formatAddressInline({ line1: 'Hauptstraße 5', city: 'Berlin', postalCode: '10115', country: 'DE' })).toBe(
      'Hauptstraße 5, 10115 Berlin',
    );
  });
});
