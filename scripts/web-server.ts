/**
 * The web server of `npm start`: Next.js in this process behind Node's own HTTP server, so every
 * request can carry the socket's address (Next.js does not pass it to route handlers, server
 * actions or proxy.ts; see lib/auth/client-address.ts). The stamp holds a per-process token, and
 * anything a client sent under the same header name is dropped first. Methods Next.js does not
 * route are refused here.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import next from 'next';
import { PEER_HEADER, PEER_TOKEN_ENV, trustedProxies } from '@/lib/auth/client-address';
import { logger } from '@/lib/logger';
import { runShutdownHooks } from '@/lib/shutdown';

const port = Number(process.env.PORT ?? 3000);
const log = logger.child({ component: 'web' });
const ROUTED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

async function main() {
  const token = randomBytes(24).toString('base64url');
  process.env[PEER_TOKEN_ENV] = token;
  // A typo in TRUSTED_PROXIES stops the server here rather than trusting the wrong hosts.
  const proxies = trustedProxies();
  if (proxies.size > 0)
    log.info({ trustedProxies: proxies.size }, 'forwarded headers are trusted from TRUSTED_PROXIES');
  const app = next({ dev: false, dir: process.cwd(), port });
  const handle = app.getRequestHandler();
  await app.prepare();
  const server = http.createServer((req, res) => {
    // Next.js answers methods it does not route (TRACE, CONNECT, made-up ones) with a 500 before
    // proxy.ts runs: refuse them here, in the API's documented shape.
    if (!ROUTED_METHODS.has(req.method ?? '')) {
      res.writeHead(405, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        allow: [...ROUTED_METHODS].join(', '),
      });
      res.end(JSON.stringify({ error: { code: 'method_not_allowed', message: 'this method is not served here' } }));
      return;
    }
    delete req.headers[PEER_HEADER];
    req.headers[PEER_HEADER] = `${token} ${req.socket.remoteAddress ?? ''}`;
    void handle(req, res);
  });
  // Every interface, as `next start` does (HOSTNAME is often the container's name, not an address).
  server.listen(port, () => log.info({ port }, 'web server listening'));
  // A clean stop: no new requests, the open ones finish (live event streams never end by
  // themselves, so they are cut after 5 s), then what they left queued is written — the access
  // trail's entries (lib/shutdown.ts) and Next's `after()` work (app.close() waits for it) — and
  // only then the process exits. Exiting straight from server.close() lost the queued entries.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Whatever hangs, the process still goes.
    setTimeout(() => process.exit(1), 15_000).unref();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), 5_000);
    await closed;
    clearTimeout(cut);
    await runShutdownHooks();
    await app.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((error) => {
  log.error({ err: error }, 'web server failed to start');
  process.exit(1);
});
