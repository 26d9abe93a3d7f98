import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateToken } from '@/lib/auth/tokens';
import { createTestDatabase, type TestDatabase } from '@/test/db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

function admin(args: string[], input?: string) {
  const result = spawnSync('npx', ['tsx', 'scripts/admin.ts', ...args], {
    env: { ...process.env, DATABASE_URL: t.url, LOG_LEVEL: 'info' },
    input,
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run admin', () => {
  it('prints only the token on standard output, and the token works', async () => {
    const { code, stdout } = admin(['token', 'create', '--role', 'operator', '--name', 'importer']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^alt_[A-Za-z0-9_-]{43}\n$/);
    expect(await authenticateToken(t.prisma, stdout.trim())).toMatchObject({
      name: 'importer (API token)',
      role: 'operator',
    });
  });

  it('creates a user with the password from standard input and never echoes it', async () => {
    const password = 'from-stdin-password-42';
    const created = admin(
      ['user', 'create', '--email', 'a@b.co', '--name', 'A B', '--role', 'auditor', '--password-stdin'],
      `${password}\n`,
    );
    expect(created.code).toBe(0);
    expect(`${created.stdout}${created.stderr}`).not.toContain(password);
    const row = await t.prisma.user.findUniqueOrThrow({ where: { email: 'a@b.co' } });
    expect(row).toMatchObject({ name: 'A B', role: 'auditor', disabledAt: null });
    expect(row.passwordHash).toMatch(/^\$argon2id\$/);

    expect(admin(['user', 'disable', '--email', 'A@b.co']).code).toBe(0);
    const list = admin(['user', 'list']);
    expect(list.stdout).toMatch(/a@b\.co\tA B\tauditor\tdisabled/);
  });

  it('revokes a token by name so that it is refused afterwards', async () => {
    const token = admin(['token', 'create', '--role', 'auditor', '--name', 'reader']).stdout.trim();
    expect(admin(['token', 'revoke', '--name', 'reader']).code).toBe(0);
    expect(await authenticateToken(t.prisma, token)).toBeNull();
    expect(admin(['token', 'list', '--all']).stdout).toMatch(/\treader\tauditor\t/);
  });

  it('exits non-zero with a message for bad usage and refused changes', () => {
    expect(admin(['token', 'create', '--role', 'root', '--name', 'x'])).toMatchObject({ code: 2, stdout: '' });
    expect(admin(['user', 'disable', '--email', 'nobody@example.org'])).toMatchObject({ code: 1, stdout: '' });
    expect(admin(['user', 'create', '--email', 'c@b.co', '--name', 'C', '--role', 'admin']).code).toBe(2);
  });
});
