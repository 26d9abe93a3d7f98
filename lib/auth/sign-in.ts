import { createHash } from 'node:crypto';
import { RateLimiterPrisma, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Actor, Role } from '@/domain/messages';
import type { Db } from '@/lib/db';
import { logger } from '@/lib/logger';
import { burnPasswordCheck, PASSWORD_MAX, verifyPassword } from './passwords';
import { createSession } from './sessions';
import { emailSchema } from './users';

/** The one message for every failed sign-in: it must not tell an attacker which part was wrong. */
export const SIGN_IN_FAILED = 'That e-mail address and password do not match an active account.';

/**
 * Failed attempts allowed per window. The IP+e-mail pair is the main brake on guessing one
 * account's password; the per-e-mail cap still holds when someone rotates X-Forwarded-For (which
 * a client can set when no proxy overwrites it); the per-IP cap slows password spraying.
 */
export const SIGN_IN_LIMITS = {
  ipEmail: { points: 5, duration: 15 * 60 },
  email: { points: 20, duration: 60 * 60 },
  ip: { points: 100, duration: 60 * 60 },
} as const;

type LimiterName = keyof typeof SIGN_IN_LIMITS;
type Limiters = Record<LimiterName, RateLimiterPrisma>;
const limitersByDb = new WeakMap<Db, Limiters>();

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
    l = { ipEmail: make('ipEmail'), email: make('email'), ip: make('ip') };
    limitersByDb.set(db, l);
  }
  return l;
}

// Keys are hashed so the limiter table holds no e-mail or IP address.
const key = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');

export type SignInResult =
  | { ok: true; actor: Actor; sealedSession: string }
  | { ok: false; reason: 'invalid' | 'rate_limited'; message: string; retryAfterSeconds?: number };

/**
 * Checks the password (argon2id) and starts a session. Every failure, whatever its cause (no such
 * account, wrong password, disabled account, malformed input), returns the same message and takes
 * about as long; repeated failures are rate limited by IP+e-mail, e-mail and IP.
 */
export async function signIn(db: Db, input: { email: string; password: string; ip: string }): Promise<SignInResult> {
  const email = emailSchema.safeParse(input.email);
  const normalisedEmail = email.success ? email.data : String(input.email).trim().toLowerCase().slice(0, 254);
  const ip = input.ip || 'unknown';
  const keys: Record<LimiterName, string> = {
    ipEmail: key(ip, normalisedEmail),
    email: key(normalisedEmail),
    ip: key(ip),
  };
  const l = limiters(db);

  const states = await Promise.all(
    (Object.keys(keys) as LimiterName[]).map(async (name) => ({ name, res: await l[name].get(keys[name]) })),
  );
  const exhausted = states.filter(({ name, res }) => res && res.consumedPoints >= SIGN_IN_LIMITS[name].points);
  if (exhausted.length > 0) {
    const waitMs = Math.max(...exhausted.map(({ res }) => (res as RateLimiterRes).msBeforeNext));
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
    logger.warn({ limiter: exhausted.map((e) => e.name) }, 'sign-in rate limited');
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
      (Object.keys(keys) as LimiterName[]).map((name) =>
        // consume() rejects with a RateLimiterRes once the points are spent; the count is what matters.
        l[name].consume(keys[name]).catch((rejection: unknown) => {
          if (rejection instanceof Error) throw rejection;
        }),
      ),
    );
    logger.info({ known: Boolean(user) }, 'sign-in failed');
    return { ok: false, reason: 'invalid', message: SIGN_IN_FAILED };
  }

  await l.ipEmail.delete(keys.ipEmail);
  const sealedSession = await createSession(db, user.id);
  logger.info({ userId: user.id }, 'signed in');
  return { ok: true, actor: { id: user.id, name: user.name, role: user.role as Role }, sealedSession };
}
