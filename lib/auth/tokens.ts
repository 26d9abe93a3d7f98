import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Actor, Role } from '@/domain/messages';
import type { Db } from '@/lib/db';
import { logger } from '@/lib/logger';
import { AccountRuleError } from './errors';
import { roleSchema } from './users';

/**
 * `alt_` + 32 random bytes (base64url). The prefix makes a leaked token easy to spot in a
 * repository or a log scanner; 256 bits of randomness make brute force pointless, which is why a
 * plain SHA-256 (not a slow password hash) is the right way to store it.
 */
const TOKEN_PREFIX = 'alt_';
const TOKEN_PATTERN = /^alt_[A-Za-z0-9_-]{43}$/;

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function looksLikeToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

export const tokenNameSchema = z
  .string()
  .trim()
  .min(1, 'enter a name')
  .max(80, 'use at most 80 characters')
  .regex(/^[\p{L}\p{N} ._:@-]+$/u, 'use letters, digits, spaces and . _ : @ -');

export const newTokenSchema = z.object({ name: tokenNameSchema, role: roleSchema });

export interface TokenSummary {
  id: string;
  name: string;
  role: Role;
  /** The first characters of the token: enough to recognise it, useless to authenticate. */
  prefix: string;
  createdBy: string | null;
  createdByName: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface CreatedToken {
  token: TokenSummary;
  /** The secret itself: shown once, never stored. */
  secret: string;
}

/** The actor an API token acts as; ids are prefixed so a timeline tells tokens from people. */
export function tokenActor(token: { id: string; name: string; role: string }): Actor {
  return { id: `token:${token.id}`, name: `${token.name} (API token)`, role: token.role as Role };
}

const SELECT = {
  id: true,
  name: true,
  role: true,
  prefix: true,
  createdBy: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
  creator: { select: { name: true } },
} as const;

type Row = {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdBy: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  creator: { name: string } | null;
};

function summary(row: Row): TokenSummary {
  const { creator, ...rest } = row;
  return { ...rest, role: rest.role as Role, createdByName: creator?.name ?? null };
}

/**
 * Creates a token. Names are unique among active tokens, so `token revoke --name` names exactly
 * one; `createdBy` is the admin's user id, or null from the command line.
 */
export async function createApiToken(
  db: Db,
  input: { name: string; role: Role },
  createdBy: string | null,
): Promise<CreatedToken> {
  const data = newTokenSchema.parse(input);
  const active = await db.apiToken.count({ where: { name: data.name, revokedAt: null } });
  if (active > 0) {
    throw new AccountRuleError(
      'token_name_taken',
      `an active token is already called "${data.name}"; revoke or rotate it, or pick another name`,
    );
  }
  const secret = generateToken();
  const row = await db.apiToken.create({
    data: { name: data.name, role: data.role, tokenHash: hashToken(secret), prefix: secret.slice(0, 10), createdBy },
    select: SELECT,
  });
  logger.info({ tokenId: row.id, role: row.role, createdBy }, 'api token created');
  return { token: summary(row), secret };
}

export async function listApiTokens(db: Db, options: { includeRevoked?: boolean } = {}): Promise<TokenSummary[]> {
  const rows = await db.apiToken.findMany({
    where: options.includeRevoked ? {} : { revokedAt: null },
    select: SELECT,
    orderBy: { createdAt: 'asc' },
  });
  return rows.map(summary);
}

/** Revokes by id; refused on the very next request that uses it. Revoking twice is harmless. */
export async function revokeApiToken(db: Db, id: string): Promise<TokenSummary> {
  if (!z.uuid().safeParse(id).success) throw new AccountRuleError('not_found', 'no such token');
  await db.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
  const row = await db.apiToken.findUnique({ where: { id }, select: SELECT });
  if (!row) throw new AccountRuleError('not_found', 'no such token');
  logger.info({ tokenId: id }, 'api token revoked');
  return summary(row);
}

/** Revokes the active token(s) with this name (normally one). */
export async function revokeApiTokenByName(db: Db, name: string): Promise<TokenSummary[]> {
  const rows = await db.apiToken.findMany({ where: { name: name.trim(), revokedAt: null }, select: { id: true } });
  if (rows.length === 0) throw new AccountRuleError('not_found', `no active token is called "${name.trim()}"`);
  return Promise.all(rows.map((r) => revokeApiToken(db, r.id)));
}

/**
 * Rotation: a new secret with the same name and role, and the old one revoked, in one
 * transaction, so there is never a moment with two valid secrets or none.
 */
export async function rotateApiToken(db: Db, id: string, rotatedBy: string | null): Promise<CreatedToken> {
  if (!z.uuid().safeParse(id).success) throw new AccountRuleError('not_found', 'no such token');
  const secret = generateToken();
  const row = await db.$transaction(async (tx) => {
    const revoked = await tx.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } });
    if (revoked.count === 0) throw new AccountRuleError('not_found', 'no active token with this id');
    const old = await tx.apiToken.findUniqueOrThrow({ where: { id } });
    return tx.apiToken.create({
      data: {
        name: old.name,
        role: old.role,
        tokenHash: hashToken(secret),
        prefix: secret.slice(0, 10),
        createdBy: rotatedBy,
      },
      select: SELECT,
    });
  });
  logger.info({ tokenId: row.id, replaces: id }, 'api token rotated');
  return { token: summary(row), secret };
}

/**
 * The actor for a bearer token, or null when it is unknown or revoked. Looking it up and
 * recording the use is one statement, so last-used is exact without an extra round trip.
 */
export async function authenticateToken(db: Db, token: string): Promise<Actor | null> {
  if (!looksLikeToken(token)) return null;
  const rows = await db.$queryRaw<Array<{ id: string; name: string; role: string }>>`
    UPDATE api_tokens SET last_used_at = now()
    WHERE token_hash = ${hashToken(token)} AND revoked_at IS NULL
    RETURNING id::text AS id, name, role`;
  const row = rows[0];
  return row ? tokenActor(row) : null;
}
