/**
 * Where to go after signing in: only a path on this site, as `path?search#hash`; anything else
 * becomes `fallback`.
 *
 * Checking the text for `//` and `\` was not enough: browsers drop tabs and line breaks from URLs,
 * so `/<TAB>/evil.example` (`next=/%09/evil.example`) passed such a check and landed on
 * http://evil.example/, and a CR or LF made the redirect header itself invalid (a 500 after a
 * successful sign-in). So: remove every control character first (as the browser would remove
 * the tab), resolve the rest with the WHATWG URL parser against a placeholder origin, keep it only
 * if the origin is still that placeholder, and return only the re-serialised path, search and
 * hash (which the parser has percent-encoded: no control characters can survive). The result is
 * checked once more, because `/..//evil.example` resolves to the path `//evil.example`, which a
 * browser would read as another host.
 */
const HERE = 'http://address-ledger.invalid';
const MAX_LENGTH = 500;
// C0 controls, DEL and C1 controls.
const CONTROL = /\p{Cc}/gu;

export function safeNext(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length > 4 * MAX_LENGTH) return fallback;
  const cleaned = value.replace(CONTROL, '');
  if (!cleaned.startsWith('/')) return fallback;
  const target = sameOriginPath(cleaned);
  if (target === null || target.length > MAX_LENGTH || sameOriginPath(target) !== target) return fallback;
  return target;
}

/**
 * Where signing in leads without a usable `next`: the search page, since an operator's first act
 * is almost always a search (the start page is only text).
 */
export const SIGN_IN_LANDING = '/addresses';

/** The page to go to after signing in: `next` when it is a path on this site, else the search page. */
export function afterSignIn(next: unknown): string {
  return safeNext(next, SIGN_IN_LANDING);
}

function sameOriginPath(candidate: string): string | null {
  let url: URL;
  try {
    url = new URL(candidate, HERE);
  } catch {
    return null;
  }
  if (url.origin !== HERE) return null;
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') ? path : null;
}
