import { BlockList, isIP } from 'node:net';

/*
 * Who is on the other end of a request, for rate limits, the same-origin check and the cookie's
 * Secure flag. Forwarded headers (X-Forwarded-For, X-Forwarded-Host) are what any client can
 * type, so they count only when the connection comes from a proxy named in TRUSTED_PROXIES.
 *
 * Next.js does not tell a route handler, server action or proxy.ts the peer's address: it only
 * fills X-Forwarded-For from the socket when the client sent none (so a client that sends one
 * picks its own address). scripts/web-server.ts therefore stamps every request with the socket's
 * address in PEER_HEADER, together with a per-process token that a client cannot know, after
 * removing whatever the client sent under that name. Without the stamp (`next dev`, in-process
 * tests) the peer is unknown, and no forwarded header is trusted.
 */

export const PEER_HEADER = 'x-address-ledger-peer';
export const PEER_TOKEN_ENV = 'ADDRESS_LEDGER_PEER_TOKEN';

export interface ClientAddress {
  /** The client's IP address, or 'unknown' when nothing trustworthy says it. */
  ip: string;
  /** The host the client asked for (Host, or X-Forwarded-Host from a trusted proxy). */
  host: string | null;
}

let parsed: { source: string; list: BlockList; size: number } | null = null;

/** TRUSTED_PROXIES: IP addresses and CIDR ranges, separated by commas or spaces. */
export function trustedProxies(source = process.env.TRUSTED_PROXIES ?? ''): { list: BlockList; size: number } {
  if (parsed?.source === source) return parsed;
  const list = new BlockList();
  let size = 0;
  for (const entry of source.split(/[\s,]+/).filter(Boolean)) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(address);
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new Error(`TRUSTED_PROXIES: ${JSON.stringify(entry)} is not an IP address or CIDR range`);
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
    size++;
  }
  parsed = { source, list, size };
  return parsed;
}

function normalise(ip: string | undefined | null): string | null {
  if (!ip) return null;
  let v = ip.trim();
  if (v.startsWith('[') && v.includes(']')) v = v.slice(1, v.indexOf(']'));
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(v)) v = v.slice(0, v.lastIndexOf(':'));
  if (v.toLowerCase().startsWith('::ffff:') && isIP(v.slice(7)) === 4) v = v.slice(7);
  return isIP(v) ? v : null;
}

function isTrusted(ip: string): boolean {
  const { list, size } = trustedProxies();
  return size > 0 && list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/** The socket address scripts/web-server.ts stamped on the request, if the stamp is genuine. */
export function peerOf(headers: Headers): string | null {
  const token = process.env[PEER_TOKEN_ENV];
  const stamp = headers.get(PEER_HEADER);
  if (!token || !stamp) return null;
  const [given, address] = stamp.split(' ');
  return given === token ? normalise(address) : null;
}

export function clientAddress(headers: Headers): ClientAddress {
  const peer = peerOf(headers);
  const host = headers.get('host');
  if (!peer || !isTrusted(peer)) return { ip: peer ?? 'unknown', host };
  // Behind trusted proxies: walk X-Forwarded-For from the nearest hop back, skipping our own
  // proxies; the first address that is not one of them is the client.
  const hops = (headers.get('x-forwarded-for') ?? '').split(',').map((h) => h.trim());
  let ip = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalise(hops[i]);
    if (!hop) break;
    ip = hop;
    if (!isTrusted(hop)) break;
  }
  const forwardedHost = headers.get('x-forwarded-host')?.split(',').at(-1)?.trim();
  return { ip, host: forwardedHost || host };
}

/** Whether an Origin header names the host the client reached (scheme aside: TLS may end at a proxy). */
export function sameOrigin(origin: string | null, host: string | null): boolean {
  if (!origin || !host) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}
