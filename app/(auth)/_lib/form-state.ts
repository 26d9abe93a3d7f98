/**
 * Where to go after signing in: only a path on this site. `//evil.example` and `/\evil.example`
 * would leave it, so they fall back to the home page.
 */
export function safeNext(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return '/';
  return value.slice(0, 500);
}
