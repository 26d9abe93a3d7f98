/**
 * `npm run --silent admin -- <command>`: accounts and API tokens without the browser.
 *
 *   user create --email a@b.c --name "A B" --role auditor --password-stdin
 *   user disable|enable --email a@b.c
 *   user role --email a@b.c --role operator
 *   user password --email a@b.c --password-stdin
 *   user list [--json]
 *   token create --role operator --name importer      (prints only the token)
 *   token rotate --name importer | --id <uuid>        (prints only the new token)
 *   token revoke --name importer | --id <uuid>
 *   token list [--all] [--json]
 *
 * Database: DATABASE_URL, else the embedded PostgreSQL of `npm start` under .data/ (the running
 * one if `npm start` is up, otherwise started just for this command).
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { Role } from '@/domain/messages';
import { AccountRuleError } from '@/lib/auth/errors';
import {
  createApiToken,
  listApiTokens,
  revokeApiToken,
  revokeApiTokenByName,
  rotateApiToken,
  type TokenSummary,
} from '@/lib/auth/tokens';
import {
  changeRole,
  createUser,
  disableUser,
  enableUser,
  findUserByEmail,
  listUsers,
  ROLES,
  setPassword,
} from '@/lib/auth/users';
import { createPrisma, type Db } from '@/lib/db';
import { openLocalDatabase } from '@/lib/embedded-postgres';
import { logger } from '@/lib/logger';
import { migrate } from '@/lib/migrate';

// Standard output carries only the result (a token must be pipeable into a secret store), so
// logs go to standard error, and only warnings unless LOG_LEVEL asks for more.
(logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = pino.destination(2);
logger.level = process.env.LOG_LEVEL ?? 'warn';

class UsageError extends Error {}

const USAGE = `usage: npm run --silent admin -- <command>
  user create --email <e-mail> --name <name> --role <${ROLES.join('|')}> --password-stdin
  user disable --email <e-mail>          user enable --email <e-mail>
  user role --email <e-mail> --role <role>
  user password --email <e-mail> --password-stdin
  user list [--json]
  token create --role <role> --name <name>   (prints only the token)
  token rotate --name <name> | --id <id>     (prints only the new token)
  token revoke --name <name> | --id <id>
  token list [--all] [--json]`;

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UsageError('--password-stdin reads the password from standard input, e.g. `printf %s "$PW" | npm run …`');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // Only the final line break (from echo or a here-string) is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function need<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing --${flag}`);
  return value;
}

function role(value: string | undefined): Role {
  const r = need(value, 'role');
  if (!(ROLES as readonly string[]).includes(r)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  return r as Role;
}

async function userByEmail(db: Db, email: string | undefined) {
  const user = await findUserByEmail(db, need(email, 'email'));
  if (!user) throw new AccountRuleError('not_found', 'no user with this e-mail address');
  return user;
}

async function tokenId(db: Db, values: { id?: string; name?: string }): Promise<string> {
  if (values.id) return values.id;
  const name = need(values.name, 'name or --id');
  const active = (await listApiTokens(db)).filter((t) => t.name === name.trim());
  if (active.length === 0) throw new AccountRuleError('not_found', `no active token is called "${name}"`);
  return active[0]!.id;
}

const iso = (d: Date | null) => (d ? d.toISOString() : '-');

function printTokens(tokens: TokenSummary[], json: boolean) {
  if (json) return out(JSON.stringify(tokens));
  out(['id', 'name', 'role', 'prefix', 'created', 'last used', 'revoked'].join('\t'));
  for (const t of tokens) {
    out([t.id, t.name, t.role, `${t.prefix}…`, iso(t.createdAt), iso(t.lastUsedAt), iso(t.revokedAt)].join('\t'));
  }
}

async function run(db: Db, argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      id: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
    },
  });
  const [noun, verb] = positionals;
  const command = `${noun ?? ''} ${verb ?? ''}`.trim();

  switch (command) {
    case 'user create': {
      if (!values['password-stdin']) throw new UsageError('give the password on standard input with --password-stdin');
      const user = await createUser(db, {
        email: need(values.email, 'email'),
        name: need(values.name, 'name'),
        role: role(values.role),
        password: await readStdin(),
      });
      return out(user.id);
    }
    case 'user disable':
      await disableUser(db, (await userByEmail(db, values.email)).id);
      return;
    case 'user enable':
      await enableUser(db, (await userByEmail(db, values.email)).id);
      return;
    case 'user role':
      await changeRole(db, (await userByEmail(db, values.email)).id, role(values.role));
      return;
    case 'user password': {
      if (!values['password-stdin']) throw new UsageError('give the password on standard input with --password-stdin');
      const user = await userByEmail(db, values.email);
      await setPassword(db, user.id, await readStdin());
      return;
    }
    case 'user list': {
      const users = await listUsers(db);
      if (values.json) return out(JSON.stringify(users));
      out(['id', 'email', 'name', 'role', 'status', 'created'].join('\t'));
      for (const u of users) {
        out([u.id, u.email, u.name, u.role, u.disabledAt ? 'disabled' : 'active', iso(u.createdAt)].join('\t'));
      }
      return;
    }
    case 'token create': {
      const { secret } = await createApiToken(db, { name: need(values.name, 'name'), role: role(values.role) }, null);
      return out(secret);
    }
    case 'token rotate': {
      const { secret } = await rotateApiToken(db, await tokenId(db, values), null);
      return out(secret);
    }
    case 'token revoke':
      if (values.id) await revokeApiToken(db, values.id);
      else await revokeApiTokenByName(db, need(values.name, 'name or --id'));
      return;
    case 'token list':
      return printTokens(await listApiTokens(db, { includeRevoked: values.all }), Boolean(values.json));
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    out(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const database = await openLocalDatabase();
  const db = createPrisma(database.url, { max: 2 });
  try {
    await migrate(database.url);
    await run(db, argv);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof AccountRuleError) {
      process.stderr.write(`refused: ${error.message}\n`);
      return 1;
    }
    if (error && typeof error === 'object' && 'issues' in error) {
      // zod: name the field and the problem, never echo the input (it may be a password).
      const issues = (error as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues;
      process.stderr.write(`invalid input: ${issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`);
      return 1;
    }
    if (error instanceof TypeError && /parseArgs|Unknown option/i.test(`${error.message}`)) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  } finally {
    await db.$disconnect();
    await database.close();
  }
}

// An explicit exit: open pools and timers must not keep a finished command alive.
main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`admin: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
