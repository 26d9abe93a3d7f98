import http from 'node:http';
import { expect, test } from '@playwright/test';
import { signInAsAdmin } from './accounts';

/*
 * What only the real server shows (issue 8, probing the app): methods and headers Next.js handled
 * with a 500 or an empty answer, server actions without an Origin, and the per-request CSP nonce.
 */

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request exactly as written (fetch refuses TRACE and joins nothing itself). */
function raw(baseURL: string, method: string, path: string, headers: Array<[string, string]> = [], body?: string) {
  const url = new URL(path, baseURL);
  return new Promise<Raw>((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path: url.pathname + url.search }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    for (const [name, value] of headers) req.appendHeader(name, value);
    req.end(body);
  });
}

const errorShape = (r: Raw) => JSON.parse(r.body) as { error: { code: string; message: string } };

test('unknown routes, wrong methods, TRACE and a repeated Origin get the documented error shape, never a 500', async ({
  baseURL,
}) => {
  const unknown = await raw(baseURL!, 'GET', '/api/no-such-thing');
  expect(unknown.status).toBe(404);
  expect(errorShape(unknown).error.code).toBe('not_found');

  const wrongMethod = await raw(baseURL!, 'DELETE', '/api/addresses');
  expect(wrongMethod.status).toBe(405);
  expect(wrongMethod.headers.allow).toBe('GET, HEAD, OPTIONS, POST');
  expect(errorShape(wrongMethod).error.code).toBe('method_not_allowed');

  for (const path of ['/api/health', '/sign-in', '/']) {
    const trace = await raw(baseURL!, 'TRACE', path);
    expect(trace.status, path).toBe(405);
    expect(errorShape(trace).error.code).toBe('method_not_allowed');
  }

  for (const path of ['/api/addresses', '/sign-in']) {
    const twice = await raw(
      baseURL!,
      'POST',
      path,
      [
        ['origin', baseURL!],
        ['origin', 'https://evil.example'],
        ['content-type', 'application/json'],
      ],
      '{}',
    );
    expect(twice.status, path).toBe(403);
    expect(errorShape(twice).error.code).toBe('forbidden');
  }

  const health = await raw(baseURL!, 'GET', '/api/health');
  expect(health.headers['cache-control']).toBe('no-store');
});

test('a server action without an Origin, or from another origin, is refused before it runs', async ({ baseURL }) => {
  const form = 'email=ada.admin%40example.org&password=x';
  for (const headers of [
    [] as Array<[string, string]>,
    [['origin', 'https://evil.example']] as Array<[string, string]>,
    // A client-sent X-Forwarded-Host must not make another origin look like this one.
    [
      ['origin', 'https://evil.example'],
      ['x-forwarded-host', 'evil.example'],
    ] as Array<[string, string]>,
  ]) {
    const res = await raw(
      baseURL!,
      'POST',
      '/sign-in',
      [['content-type', 'application/x-www-form-urlencoded'], ['next-action', 'x'.repeat(42)], ...headers],
      form,
    );
    expect(res.status, JSON.stringify(headers)).toBe(403);
    expect(errorShape(res).error.code).toBe('forbidden');
  }
});

test('pages carry a fresh script nonce, and an injected inline script does not run', async ({ page }) => {
  const first = await page.goto('/sign-in');
  const policy = first!.headers()['content-security-policy']!;
  const scriptSrc = policy.split(';').find((d) => d.trim().startsWith('script-src'))!;
  expect(scriptSrc).toMatch(/'nonce-[A-Za-z0-9+/=]+'/);
  expect(scriptSrc).not.toContain("'unsafe-inline'");
  const nonce = /'nonce-([^']+)'/.exec(scriptSrc)![1]!;
  // Next.js put the nonce on its own scripts (otherwise the form below would not work).
  expect(await page.locator(`script[nonce]`).count()).toBeGreaterThan(0);
  const second = await page.goto('/sign-in');
  expect(second!.headers()['content-security-policy']).not.toContain(nonce);

  // An injected inline script (what an XSS would add to the HTML), served under the page's own
  // policy: it must not run, while the page's own scripts still do.
  let served = '';
  await page.route('**/sign-in', async (route) => {
    const response = await route.fetch();
    served = (await response.text()).replace(/<head>/, '<head><script>window.__injected = true;</script>');
    await route.fulfill({ response, body: served });
  });
  await page.goto('/sign-in');
  expect(served).toContain('<script>window.__injected = true;</script>');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  expect(await page.evaluate(() => (window as { __injected?: boolean }).__injected)).toBeUndefined();
  await page.unroute('**/sign-in');
  await signInAsAdmin(page);
});
