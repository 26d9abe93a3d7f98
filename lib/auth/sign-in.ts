import { createHash, randomBytes } from 'node:crypto';
import { sealData, unsealData } from 'iron-session';
import { RateLimiterPrisma, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Actor, Role } from '@/domain/messages';
import type { Db } from '@/lib/db';
import { logger } from '@/lib/logger';
import { burnPasswordCheck, PASSWORD_MAX, verifyPassword } from './passwords';
import { createSession, sessionSecret } from './sessions';
import { emailSchema } from './users';

/** The one message for every failed sign-in: it must not tell an attacker which part was wrong. */
export const SIGN_IN_FAILED = 'That e-mail address and password do not match an active account.';

/**
 * Failed attempts allowed per window. Guessing stays slow without letting anyone lock an account
 * out (OWASP's "device cookie" scheme): a browser that signed in to the account before presents a
 * device cookie and is limited only by its own budget (`device`), so 20 wrong passwords from
 * elsewhere do not stop the admin's own browser. Clients without one share the brakes that an
 * attacker runs into: per account and client address (`ipEmail`), per address (`ip`, password
 * spraying) and per account (`email`, address rotation). `account` caps every failure for the
 * account, trusted or not; it is high enough that the untrusted budgets alone cannot reach it in
 * its window (20 an hour is 480 a day), so it only bites a stolen device cookie used for guessing.
 */
export const SIGN_IN_LIMITS = {
  ipEmail: { points: 5, duration: 15 * 60 },
  ip: { points: 100, duration: 60 * 60 },
  email: { points: 20, duration: 60 * 60 },
  device: { points: 10, duration: 15 * 60 },
  account: { points: 1000, duration: 24 * 60 * 60 },
} as const;

/** The cookie a browser keeps after signing in; it names the accounts, never a secret. */
export const DEVICE_COOKIE = 'address_ledger_device';
export const DEVICE_COOKIE_MAX_AGE = 365 * 24 * 60 * 60;
const DEVICE_ACCOUNTS_MAX = 10;

type LimiterName = keyof typeof SIGN_IN_LIMITS;
type Limiters = Record<LimiterName, RateLimiterPrisma>;
const limitersByDb = new WeakMap<Db, Limiters>();
const LIMITER_NAMES = Object.keys(SIGN_IN_LIMITS) as LimiterName[];

function limiters(db: Db): Limiters {
  let l = limitersByDb.get(db);
  if (!l) {
    const make = (name: LimiterName) =>
      new RateLimiterPrisma({
        storeClient: db,
        // The Prisma client property of the SignInLimit model (table sign_in_limits).
        tableName: 'signInLimit',
        keyPrefix: `sign-in:${name}`,
        points: SIGN_IN_LIMITS[name].points,
        duration: SIGN_IN_LIMITS[name].duration,
      });
    l = Object.fromEntries(LIMITER_NAMES.map((name) => [name, make(name)])) as Limiters;
    limitersByDb.set(db, l);
  }
  return l;
}

// Keys are hashed so the limiter table holds no e-mail or IP address.
const key = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');

interface Device {
  /** Random per browser: the device's own budget is keyed by it. */
  id: string;
  /** Hashes of the accounts that signed in from this browser. */
  accounts: string[];
}

async function readDevice(db: Db, sealed: string | null | undefined): Promise<Device | null> {
  if (!sealed) return null;
  try {
    const data = await unsealData<Partial<Device>>(sealed, {
      password: await sessionSecret(db),
      ttl: DEVICE_COOKIE_MAX_AGE,
    });
    return typeof data.id === 'string' && Array.isArray(data.accounts)
      ? { id: data.id, accounts: data.accounts.filter((a) => typeof a === 'string') }
      : null;
  } catch {
    // Forged, garbled or sealed with another key: simply no device.
    return null;
  }
}

export type SignInResult =
  | { ok: true; actor: Actor; sealedSession: string; deviceCookie: string }
  | { ok: false; reason: 'invalid' | 'rate_limited'; message: string; retryAfterSeconds?: number };

/**
 * Checks the password (argon2id) and starts a session. Every failure, whatever its cause (no such
 * account, wrong password, disabled account, malformed input), returns the same message and takes
 * about as long; repeated failures are rate limited (SIGN_IN_LIMITS). `device` is the device
 * cookie the browser sent, if any; a successful sign-in returns the one to set.
 */
export async function signIn(
  db: Db,
  input: { email: string; password: string; ip: string; device?: string | null },
): Promise<SignInResult> {
  const email = emailSchema.safeParse(input.email);
  const normalisedEmail = email.success ? email.data : String(input.email).trim().toLowerCase().slice(0, 254);
  const ip = input.ip || 'unknown';
  const account = key('account', normalisedEmail);
  const device = await readDevice(db, input.device);
  const trusted = device?.accounts.includes(account) ?? false;
  const keys: Partial<Record<LimiterName, string>> = trusted
    ? { device: key(device!.id, normalisedEmail), account }
    : { ipEmail: key(ip, normalisedEmail), ip: key(ip), email: key(normalisedEmail), account };
  const applied = Object.keys(keys) as LimiterName[];
  const l = limiters(db);

  const states = await Promise.all(applied.map(async (name) => ({ name, res: await l[name].get(keys[name]!) })));
  const exhausted = states.filter(({ name, res }) => res && res.consumedPoints >= SIGN_IN_LIMITS[name].points);
  if (exhausted.length > 0) {
    const waitMs = Math.max(...exhausted.map(({ res }) => (res as RateLimiterRes).msBeforeNext));
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
    logger.warn({ limiter: exhausted.map((e) => e.name), trustedDevice: trusted }, 'sign-in rate limited');
    return {
      ok: false,
      reason: 'rate_limited',
      retryAfterSeconds,
      message: `Too many failed sign-in attempts. Try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s).`,
    };
  }

  const password = typeof input.password === 'string' ? input.password : '';
  const user =
    email.success && password.length > 0 && password.length <= PASSWORD_MAX
      ? await db.user.findUnique({ where: { email: email.data } })
      : null;
  let valid = false;
  if (user) {
    valid = (await verifyPassword(user.passwordHash, password)) && user.disabledAt === null;
  } else {
    await burnPasswordCheck(password.slice(0, PASSWORD_MAX));
  }

  if (!valid || !user) {
    await Promise.all(
      applied.map((name) =>
        // consume() rejects with a RateLimiterRes once the points are spent; the count is what matters.
        l[name].consume(keys[name]!).catch((rejection: unknown) => {
          if (rejection instanceof Error) throw rejection;
        }),
      ),
    );
    logger.info({ known: Boolean(user), trustedDevice: trusted }, 'sign-in failed');
    return { ok: false, reason: 'invalid', message: SIGN_IN_FAILED };
  }

  await (trusted ? l.device.delete(keys.device!) : l.ipEmail.delete(keys.ipEmail!));
  const sealedSession = await createSession(db, user.id);
  const accounts = [account, ...(device?.accounts ?? []).filter((a) => a !== account)].slice(0, DEVICE_ACCOUNTS_MAX);
  const deviceCookie = await sealData(
    { id: device?.id ?? randomBytes(16).toString('base64url'), accounts },
    { password: await sessionSecret(db), ttl: DEVICE_COOKIE_MAX_AGE },
  );
  logger.info({ userId: user.id, trustedDevice: trusted }, 'signed in');
  return {
    ok: true,
    actor: { id: user.id, name: user.name, role: user.role as Role },
    sealedSession,
    deviceCookie,
  };
}
