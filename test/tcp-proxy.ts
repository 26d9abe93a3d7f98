/** A TCP proxy in front of a database server, to make it look dead and alive again in tests. */
export interface TcpProxy {
  url: string;
  /** Closes the listener and cuts every open connection: the backend looks dead. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP proxy to the test database's server, to take "the search database" away and back. */
export async function tcpProxy(databaseUrl: string): Promise<TcpProxy> {
  const net = await import('node:net');
  const target = new URL(databaseUrl);
  const sockets = new Set<import('node:net').Socket>();
  let server: import('node:net').Server | null = null;
  const port = await (await import('@/lib/embedded-postgres')).freePort();
  const up = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    });
  await up();
  const url = new URL(databaseUrl);
  url.port = String(port);
  url.hostname = '127.0.0.1';
  return { url: url.toString(), up, down, close: down };
}
