import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { z } from 'zod';

/**
 * OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): slow enough to make offline guessing
 * expensive, cheap enough that a sign-in stays well under a second on a small server.
 * `Algorithm` is an ambient const enum, which isolatedModules cannot read, hence the literal.
 */
const ARGON2ID = 2 as Algorithm;
const HASH_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Length is what makes a password strong; composition rules mostly make people write them down.
 * The upper bound keeps a hostile request from making the hash do unbounded work.
 */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;
export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN, `use at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `use at most ${PASSWORD_MAX} characters`);

export function hashPassword(password: string): Promise<string> {
  return hash(password.normalize('NFC'), HASH_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password.normalize('NFC'));
  } catch {
    // A malformed stored hash must read as "wrong password", never as a 500 that reveals the account.
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Verifies against a throwaway hash so that "no such user" takes as long as "wrong password";
 * otherwise response times would tell an attacker which e-mail addresses have accounts.
 */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('not-a-real-password-just-for-timing');
  await verifyPassword(await dummyHash, password);
}
