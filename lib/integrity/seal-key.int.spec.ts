import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { publicKeyText } from './chain';
import { loadSealKey, trustedSealKeys } from './seal-key';

const dirs: string[] = [];
afterEach(() => {
  vi.unstubAllEnvs();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ledger-seal-key-'));
  dirs.push(dir);
  vi.stubEnv('DATA_DIR', dir);
  vi.stubEnv('SEAL_KEY_FILE', undefined);
  vi.stubEnv('SEAL_PRIVATE_KEY', undefined);
  vi.stubEnv('SEAL_PUBLIC_KEY', undefined);
  return dir;
}

describe('the sealing key', () => {
  it('is generated once into the data directory, readable only by its owner, and reused', () => {
    const dir = dataDir();
    expect(loadSealKey({ create: false })).toBeNull();
    expect(trustedSealKeys()).toBeNull();
    const created = loadSealKey({ create: true })!;
    const file = path.join(dir, 'seal-key.pem');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadSealKey({ create: true })!.publicKey).toBe(created.publicKey);
    expect(trustedSealKeys()).toEqual({ keys: [created.publicKey], source: 'signing key' });
  });

  it('comes from SEAL_PRIVATE_KEY when set, and SEAL_PUBLIC_KEY names the trusted keys', () => {
    dataDir();
    const pk = generateKeyPairSync('ed25519').privateKey;
    vi.stubEnv('SEAL_PRIVATE_KEY', pk.export({ format: 'pem', type: 'pkcs8' }).toString());
    expect(loadSealKey({ create: true })!.publicKey).toBe(publicKeyText(pk));
    vi.stubEnv('SEAL_PUBLIC_KEY', 'AAA, BBB');
    expect(trustedSealKeys()).toEqual({ keys: ['AAA', 'BBB'], source: 'SEAL_PUBLIC_KEY' });
  });

  it('refuses a key that is not Ed25519', () => {
    dataDir();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    vi.stubEnv('SEAL_PRIVATE_KEY', rsa.export({ format: 'pem', type: 'pkcs8' }).toString());
    expect(() => loadSealKey({ create: true })).toThrow(/rsa key; seals are signed with Ed25519/);
  });
});
