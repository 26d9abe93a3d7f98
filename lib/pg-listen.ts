import pg from 'pg';
import type { Logger } from './logger';

/**
 * LISTEN on a dedicated connection that reconnects by itself. NOTIFY only shortens waits: every
 * user also polls, so a lost notification (or connection) delays work, never loses it.
 * `onNotify` also fires right after each (re)connect, for whatever was appended meanwhile.
 */
export function listen(
  databaseUrl: string,
  channel: string,
  onNotify: (payload?: string) => void,
  log: Logger,
  name = 'listen',
) {
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;

  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({ connectionString: databaseUrl, application_name: name });
    c.on('notification', (message) => onNotify(message.payload));
    c.on('error', () => {
      if (client === c) client = null;
      c.end().catch(() => {});
      schedule();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      if (closed) {
        await c.end();
        return;
      }
      client = c;
      onNotify();
    } catch (error) {
      log.debug({ err: String(error), channel }, 'LISTEN connection failed; polling until it is back');
      c.end().catch(() => {});
      schedule();
    }
  };
  const schedule = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, 2_000);
    retry.unref();
  };
  void connect();

  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}

/** Called with the NOTIFY payload, or with none after a (re)connect (anything may have happened). */
type Subscriber = (payload?: string) => void;
const shared = new Map<string, { subscribers: Set<Subscriber>; close: () => Promise<void> }>();

/**
 * One LISTEN connection per process and channel, shared by every subscriber (e.g. each open
 * event-stream response), so a hundred followers cost one connection, not a hundred.
 */
export function subscribe(databaseUrl: string, channel: string, log: Logger, onNotify: Subscriber): () => void {
  const key = `${databaseUrl}\n${channel}`;
  let entry = shared.get(key);
  if (!entry) {
    const subscribers = new Set<Subscriber>();
    const listener = listen(
      databaseUrl,
      channel,
      (payload) => {
        for (const s of subscribers) s(payload);
      },
      log,
      'api:listen',
    );
    entry = { subscribers, close: listener.close };
    shared.set(key, entry);
  }
  entry.subscribers.add(onNotify);
  const current = entry;
  return () => {
    current.subscribers.delete(onNotify);
    if (current.subscribers.size === 0 && shared.get(key) === current) {
      shared.delete(key);
      void current.close();
    }
  };
}
