import { z } from 'zod';
import type { Role } from '@/domain/messages';
import { Prisma } from '@/generated/prisma/client';
import { ADVISORY_XACT_LOCK_SQL } from '@/lib/advisory-locks';
import type { Db } from '@/lib/db';
import { logger } from '@/lib/logger';
import { AccountRuleError } from './errors';
import { hashPassword, passwordSchema } from './passwords';

export const ROLES = ['operator', 'auditor', 'admin'] as const satisfies readonly Role[];
export const roleSchema = z.enum(ROLES);

// Control characters have no business in a name or address and can hide text in logs or screens.
const noControl = (s: string) => !/[\p{Cc}\p{Cf}]/u.test(s);

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'an e-mail address has at most 254 characters')
  .pipe(z.email('enter an e-mail address like name@example.org'));

export const nameSchema = z
  .string()
  .trim()
  .transform((s) => s.normalize('NFC'))
  .pipe(
    z.string().min(1, 'enter a name').max(120, 'use at most 120 characters').refine(noControl, 'no control characters'),
  );

export const newUserSchema = z.object({
  email: emailSchema,
  name: nameSchema,
  role: roleSchema,
  password: passwordSchema,
});
export type NewUser = z.input<typeof newUserSchema>;

export interface UserSummary {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabledAt: Date | null;
  createdAt: Date;
}

const SUMMARY = { id: true, email: true, name: true, role: true, disabledAt: true, createdAt: true } as const;

// Serialises changes that could leave the system without an active admin (and first-run setup),
// so two admins demoting each other at the same moment cannot both succeed.
const ACCOUNTS_LOCK = 'accounts';

type Tx = Prisma.TransactionClient;

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

const usersKnownToExist = new WeakSet<Db>();

/** True once any account exists. Cached per client once true: accounts are disabled, never deleted. */
export async function usersExist(db: Db): Promise<boolean> {
  if (usersKnownToExist.has(db)) return true;
  const exists = (await db.user.count({ take: 1 })) > 0;
  if (exists) usersKnownToExist.add(db);
  return exists;
}

async function insertUser(tx: Tx | Db, input: z.output<typeof newUserSchema>): Promise<UserSummary> {
  const passwordHash = await hashPassword(input.password);
  try {
    const user = await tx.user.create({
      data: { email: input.email, name: input.name, role: input.role, passwordHash },
      select: SUMMARY,
    });
    return user as UserSummary;
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AccountRuleError('email_taken', 'an account with this e-mail address already exists');
    }
    throw error;
  }
}

/** Creates an account (admin screen, `npm run admin -- user create`). Input is validated here too. */
export async function createUser(db: Db, input: NewUser): Promise<UserSummary> {
  const data = newUserSchema.parse(input);
  const user = await insertUser(db, data);
  logger.info({ userId: user.id, role: user.role }, 'user created');
  return user;
}

/**
 * First run: the first visitor creates the admin account. Refused as soon as any account exists,
 * under a lock, so two people racing through the setup page cannot both become admin.
 */
export async function createFirstAdmin(db: Db, input: Omit<NewUser, 'role'>): Promise<UserSummary> {
  const data = newUserSchema.parse({ ...input, role: 'admin' });
  const user = await db.$transaction(async (tx) => {
    await tx.$queryRawUnsafe(ADVISORY_XACT_LOCK_SQL, ACCOUNTS_LOCK);
    if ((await tx.user.count({ take: 1 })) > 0) {
      throw new AccountRuleError('setup_closed', 'the first admin account already exists; sign in instead');
    }
    return insertUser(tx, data);
  });
  usersKnownToExist.add(db);
  logger.info({ userId: user.id }, 'first admin created');
  return user;
}

export async function listUsers(db: Db): Promise<UserSummary[]> {
  return (await db.user.findMany({ select: SUMMARY, orderBy: { createdAt: 'asc' } })) as UserSummary[];
}

export async function findUserByEmail(db: Db, email: string): Promise<UserSummary | null> {
  const parsed = emailSchema.safeParse(email);
  if (!parsed.success) return null;
  return (await db.user.findUnique({ where: { email: parsed.data }, select: SUMMARY })) as UserSummary | null;
}

/** Runs `change` under the accounts lock and refuses it if no active admin would be left. */
async function withAdminGuard(db: Db, userId: string, change: (tx: Tx) => Promise<void>): Promise<UserSummary> {
  return db.$transaction(async (tx) => {
    await tx.$queryRawUnsafe(ADVISORY_XACT_LOCK_SQL, ACCOUNTS_LOCK);
    const before = await tx.user.findUnique({ where: { id: userId }, select: SUMMARY });
    if (!before) throw new AccountRuleError('not_found', 'no such user');
    const activeAdmins = () => tx.user.count({ where: { role: 'admin', disabledAt: null } });
    const adminsBefore = await activeAdmins();
    await change(tx);
    // Only a change that takes away the last admin is refused (accounts made from the command line
    // may not include an admin yet; that must not freeze every other change).
    if (adminsBefore > 0 && (await activeAdmins()) === 0) {
      throw new AccountRuleError('last_admin', 'this would leave no active admin; make someone else admin first');
    }
    return (await tx.user.findUniqueOrThrow({ where: { id: userId }, select: SUMMARY })) as UserSummary;
  });
}

/** Disables an account and ends its sessions, so it is refused on its very next request. */
export async function disableUser(db: Db, userId: string): Promise<UserSummary> {
  const user = await withAdminGuard(db, userId, async (tx) => {
    await tx.user.updateMany({
      where: { id: userId, disabledAt: null },
      data: { disabledAt: new Date(), updatedAt: new Date() },
    });
    await tx.session.deleteMany({ where: { userId } });
  });
  logger.info({ userId }, 'user disabled');
  return user;
}

export async function enableUser(db: Db, userId: string): Promise<UserSummary> {
  const user = await withAdminGuard(db, userId, async (tx) => {
    await tx.user.update({ where: { id: userId }, data: { disabledAt: null, updatedAt: new Date() } });
  });
  logger.info({ userId }, 'user enabled');
  return user;
}

/** Takes effect on the next request: the role is read from the database every time. */
export async function changeRole(db: Db, userId: string, role: Role): Promise<UserSummary> {
  const parsed = roleSchema.parse(role);
  const user = await withAdminGuard(db, userId, async (tx) => {
    await tx.user.update({ where: { id: userId }, data: { role: parsed, updatedAt: new Date() } });
  });
  logger.info({ userId, role: parsed }, 'user role changed');
  return user;
}

/** Sets a new password and signs the user out everywhere. */
export async function setPassword(db: Db, userId: string, password: string): Promise<void> {
  const passwordHash = await hashPassword(passwordSchema.parse(password));
  await db.$transaction(async (tx) => {
    const updated = await tx.user.updateMany({ where: { id: userId }, data: { passwordHash, updatedAt: new Date() } });
    if (updated.count === 0) throw new AccountRuleError('not_found', 'no such user');
    await tx.session.deleteMany({ where: { userId } });
  });
  logger.info({ userId }, 'user password set');
}
