import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { publicKeyText } from './chain';

/*
 * The Ed25519 key that signs seals (README "Tamper evidence", settings):
 *   SEAL_PRIVATE_KEY   the key itself, PKCS#8 PEM (e.g. from a secret store);
 *   SEAL_KEY_FILE      else this file (default <DATA_DIR>/seal-key.pem), generated on first start
 *                      with mode 0600 when it does not exist;
 *   SEAL_PUBLIC_KEY    for `npm run verify` where the private key is not available: the trusted
 *                      public key(s), base64 SPKI as /admin shows it, comma-separated.
 * The database never holds the private key: a copy of the database is not enough to forge a seal.
 */

export interface SealKey {
  privateKey: KeyObject;
  /** Base64 SubjectPublicKeyInfo DER, as stored with every seal. */
  publicKey: string;
}

export function sealKeyFile(): string {
  return path.resolve(process.env.SEAL_KEY_FILE ?? path.join(process.env.DATA_DIR ?? '.data', 'seal-key.pem'));
}

function fromPem(pem: string, where: string): SealKey {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${where} holds a ${privateKey.asymmetricKeyType} key; seals are signed with Ed25519`);
  }
  return { privateKey, publicKey: publicKeyText(privateKey) };
}

function readKeyFile(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** The signing key from the settings; with `create`, a missing key file is generated first. */
export function loadSealKey(options: { create: boolean }): SealKey | null {
  if (process.env.SEAL_PRIVATE_KEY) return fromPem(process.env.SEAL_PRIVATE_KEY, 'SEAL_PRIVATE_KEY');
  const file = sealKeyFile();
  const existing = readKeyFile(file);
  if (existing !== null) return fromPem(existing, file);
  if (!options.create) return null;
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    // 'wx': two processes starting at once must not each write a key and sign with different ones.
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return fromPem(readFileSync(file, 'utf8'), file);
  }
  return { privateKey, publicKey: publicKeyText(privateKey) };
}

export interface TrustedKeys {
  keys: string[];
  source: 'SEAL_PUBLIC_KEY' | 'signing key';
}

/**
 * The public keys a seal may be signed with, or null when none is configured (then the verifier
 * can only check that each seal's signature matches the key stored beside it, which whoever can
 * rewrite the database could replace too).
 */
export function trustedSealKeys(): TrustedKeys | null {
  const listed = process.env.SEAL_PUBLIC_KEY?.split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (listed && listed.length > 0) return { keys: listed, source: 'SEAL_PUBLIC_KEY' };
  const key = loadSealKey({ create: false });
  return key ? { keys: [key.publicKey], source: 'signing key' } : null;
}
