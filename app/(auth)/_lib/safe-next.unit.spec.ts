import { describe, expect, it } from 'vitest';
import { afterSignIn, safeNext } from './safe-next';

const HOSTILE = [
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '/\t/evil.example',
  '\t/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '\u0000//evil.example',
  '/\u0085/evil.example',
  '/\u007f/evil.example',
  '/..//evil.example',
  '/./..//evil.example',
  '/%2e%2e//evil.example',
  'https://evil.example',
  'HTTPS://evil.example/',
  'http:evil.example',
  ' //evil.example',
  'javascript:alert(1)',
  'JaVaScRiPt:alert(1)',
  '\tjavascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'evil.example',
  '',
  '/'.repeat(3000),
  undefined,
  null,
  42,
  ['/addresses'],
];

/** Where a browser would land if it followed the redirect from this site. */
function landing(next: string): URL {
  return new URL(next, 'https://ledger.example.org/sign-in');
}

describe('safeNext', () => {
  it('keeps a path on this site, with its query and fragment', () => {
    expect(safeNext('/addresses/new')).toBe('/addresses/new');
    expect(safeNext('/addresses?q=main%20street')).toBe('/addresses?q=main%20street');
    expect(safeNext('/addresses/1#history')).toBe('/addresses/1#history');
    expect(safeNext('/')).toBe('/');
  });

  it.each(HOSTILE.map((value) => [JSON.stringify(value), value]))(
    'sends %s to the home page or a local path',
    (_, value) => {
      const next = safeNext(value);
      expect(landing(next).origin).toBe('https://ledger.example.org');
      expect(next).toMatch(/^\/(?![/\\])/);
      // Nothing that could break a Location header or be dropped by a browser survives.
      expect(next).not.toMatch(/\p{Cc}/u);
    },
  );

  it('turns the known escapes into the home page itself', () => {
    for (const value of [
      '//evil.example',
      '/\t/evil.example',
      '/\\evil.example',
      '/..//evil.example',
      'javascript:x',
    ]) {
      expect(safeNext(value)).toBe('/');
    }
  });

  it('strips control characters from a local path instead of failing on them', () => {
    expect(safeNext('/addresses\r\nSet-Cookie: x=1')).toBe('/addressesSet-Cookie:%20x=1');
    expect(safeNext('/addr\tesses')).toBe('/addresses');
  });

  it('keeps percent-encoded text encoded (it stays one path on this site)', () => {
    expect(safeNext('/%09/evil.example')).toBe('/%09/evil.example');
    expect(landing(safeNext('/%2F%2Fevil.example')).origin).toBe('https://ledger.example.org');
  });
});

describe('afterSignIn', () => {
  it('lands on the search page without a usable next, and on next otherwise', () => {
    for (const value of [undefined, '', '//evil.example', '/\t/evil.example', 'https://evil.example', ['/admin']]) {
      expect(afterSignIn(value)).toBe('/addresses');
    }
    expect(afterSignIn('/admin')).toBe('/admin');
    expect(afterSignIn('/')).toBe('/');
    expect(afterSignIn('/addresses/new?x=1#top')).toBe('/addresses/new?x=1#top');
  });
});
