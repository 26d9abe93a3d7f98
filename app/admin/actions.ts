'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { type FormState, fieldErrors, sentence } from '@/app/_lib/form-state';
import type { Actor } from '@/domain/messages';
import { AccountRuleError, ForbiddenError, UnauthorizedError } from '@/lib/auth/errors';
import { currentActor } from '@/lib/auth/request-actor';
import { createApiToken, newTokenSchema, revokeApiToken, rotateApiToken } from '@/lib/auth/tokens';
import { changeRole, createUser, disableUser, enableUser, newUserSchema, roleSchema } from '@/lib/auth/users';
import { prisma } from '@/lib/db';
import { startVerification } from '@/lib/integrity/verify-job';
import { optionalReasonSchema, reasonSchema } from '@/lib/validation/address';
import { decideParked } from '@/projections/parking';
import { readSide } from '@/projections/read-side';
import { startRebuild } from '@/projections/rebuild-job';

/*
 * Admin server actions. Each one: authorise (admin, on the server, every time) → zod safeParse →
 * lib/auth → a FormState for the form → revalidate the admin page. Rule violations (last admin,
 * e-mail taken…) come back as messages, not crashes.
 */

const text = (formData: FormData, name: string) => {
  const v = formData.get(name);
  return typeof v === 'string' ? v : '';
};

async function admin(): Promise<Actor | FormState> {
  try {
    return await currentActor('admin');
  } catch (error) {
    if (error instanceof UnauthorizedError)
      return { status: 'forbidden', message: 'Your session has ended. Sign in again.' };
    if (error instanceof ForbiddenError) {
      return {
        status: 'forbidden',
        message: 'Only admins can manage accounts, tokens, read models and verifications.',
      };
    }
    throw error;
  }
}

const isActor = (v: Actor | FormState): v is Actor => 'role' in v && 'id' in v;

async function run(work: () => Promise<FormState>): Promise<FormState> {
  try {
    const result = await work();
    revalidatePath('/admin');
    return result;
  } catch (error) {
    if (error instanceof AccountRuleError) return { status: 'rejected', message: sentence(error.message) };
    throw error;
  }
}

const idSchema = z.uuid({ error: 'the form does not name a record; reload the page' });

export async function createUserAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const actor = await admin();
  if (!isActor(actor)) return actor;
  const values = { email: text(formData, 'email'), name: text(formData, 'name'), role: text(formData, 'role') };
  const parsed = newUserSchema.safeParse({ ...values, password: text(formData, 'password') });
  if (!parsed.success) {
    return {
      status: 'invalid',
      message: 'Please correct the highlighted fields.',
      errors: fieldErrors(parsed.error.issues),
      values,
    };
  }
  return run(async () => {
    const user = await createUser(prisma(), parsed.data);
    return {
      status: 'ok',
      message: `Account created for ${user.name} (${user.role}). Give them their password in person.`,
    };
  });
}

export async function changeRoleAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const actor = await admin();
  if (!isActor(actor)) return actor;
  const parsed = z.object({ userId: idSchema, role: roleSchema }).safeParse({
    userId: text(formData, 'userId'),
    role: text(formData, 'role'),
  });
  if (!parsed.success)
    return { status: 'rejected', message: fieldErrors(parsed.error.issues)._form?.[0] ?? 'Choose a role.' };
  if (parsed.data.userId === actor.id)
    return { status: 'rejected', message: 'You cannot change your own role; ask another admin.' };
  return run(async () => {
    const user = await changeRole(prisma(), parsed.data.userId, parsed.data.role);
    return { status: 'ok', message: `${user.name} is now ${user.role}.` };
  });
}

export async function setUserEnabledAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const actor = await admin();
  if (!isActor(actor)) return actor;
  const parsed = z
    .object({ userId: idSchema, enabled: z.enum(['true', 'false']) })
    .safeParse({ userId: text(formData, 'userId'), enabled: text(formData, 'enabled') });
  if (!parsed.success) return { status: 'rejected', message: 'Reload the page and try again.' };
  if (parsed.data.userId === actor.id)
    return { status: 'rejected', message: 'You cannot disable your own account; ask another admin.' };
  return run(async () => {
    const user =
      parsed.data.enabled === 'true'
        ? await enableUser(prisma(), parsed.data.userId)
        : await disableUser(prisma(), parsed.data.userId);
    return { status: 'ok', message: `${user.name} is ${user.disabledAt ? 'disabled and signed out' : 'enabled'}.` };
  });
}

export async function createTokenAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const actor = await admin();
  if (!isActor(actor)) return actor;
  const values = { name: text(formData, 'name'), role: text(formData, 'role') };
  const parsed = newTokenSchema.safeParse(values);
  if (!parsed.success) {
    return {
      status: 'invalid',
      message: 'Please correct the highlighted fields.',
      errors: fieldErrors(parsed.error.issues),
      values,
    };
  }
  return run(async () => {
    const { token, secret } = await createApiToken(prisma(), parsed.data, actor.id);
    return { status: 'ok', message: `Token "${token.name}" (${token.role}) created.`, secret };
  });
}

export async function revokeTokenAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const actor = await admin();
  if (!isActor(actor)) return actor;
  const parsed = idSchema.safeParse(text(formData, 'tokenId'));
  if (!parsed.success) return { status: 'rejected', message: 'Reload the page and try again.' };
  return run(async () => {
    const token = await revokeApiToken(prisma(), parsed.data);
    return { status: 'ok', message: `Token "${token.name}" revoked.` };
  });
}

export async function rotateTokenAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const actor = await admin();
  if (!isActor(actor)) return actor;
  const parsed = idSchema.safeParse(text(formData, 'tokenId'));
  if (!parsed.success) return { status: 'rejected', message: 'Reload the page and try again.' };
  return run(async () => {
    const { token, secret } = await rotateApiToken(prisma(), parsed.data, actor.id);
    return { status: 'ok', message: `Token "${token.name}" rotated; the old secret no longer works.`, secret };
  });
}

/**
 * Starts a rebuild of every read model in the background of this server process and returns at
 * once (it can take minutes); the admin page shows its progress. One at a time across all app
 * instances (projections/rebuild-job.ts).
 */
export async function rebuildReadModelsAction(_previous: FormState, _formData: FormData): Promise<FormState> {
  const actor = await admin();
  if (!isActor(actor)) return actor;
  const result = await startRebuild({ id: actor.id, name: actor.name });
  revalidatePath('/admin');
  if (!result.started) return { status: 'rejected', message: 'A rebuild is already running; wait for it to finish.' };
  return { status: 'ok', message: 'Rebuild started. Its progress is shown below; the live read models keep serving.' };
}

/**
 * Verifies the event log (hash chains, seals) in the background of this server process and
 * returns at once; the result is recorded and shown on the admin page. One at a time across all
 * app instances (lib/integrity/verify-job.ts).
 */
export async function verifyLedgerAction(_previous: FormState, _formData: FormData): Promise<FormState> {
  const actor = await admin();
  if (!isActor(actor)) return actor;
  const result = await startVerification({ id: actor.id, name: actor.name });
  revalidatePath('/admin');
  if (!result.started)
    return { status: 'rejected', message: 'A verification is already running; wait for it to finish.' };
  return { status: 'ok', message: 'Verification started. Its result is shown here when it is done.' };
}

const parkedForm = z.object({ addressId: idSchema, action: z.enum(['retry', 'skip']) });

/**
 * Retry or skip a parked address (projections/README.md "Parked addresses"): the decision is logged
 * (append-only) and the active projector carries it out on its next batch. A skip needs a reason.
 */
export async function decideParkedAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const actor = await admin();
  if (!isActor(actor)) return actor;
  const parsed = parkedForm.safeParse({ addressId: text(formData, 'addressId'), action: text(formData, 'action') });
  if (!parsed.success) return { status: 'rejected', message: 'Reload the page and try again.' };
  const { addressId, action } = parsed.data;
  const reasonInput = text(formData, 'reason');
  const reason = (action === 'skip' ? reasonSchema : optionalReasonSchema).safeParse(reasonInput);
  if (!reason.success) {
    return {
      status: 'invalid',
      message: action === 'skip' ? 'Say why this event may be left out.' : 'Please correct the reason.',
      errors: { reason: reason.error.issues.map((i) => sentence(i.message)) },
      values: { reason: reasonInput },
    };
  }
  return run(async () => {
    const decided = await decideParked(readSide().pool, addressId, {
      action,
      reason: reason.data ?? null,
      actor,
    });
    if (decided.length === 0) return { status: 'rejected', message: 'This address is no longer parked.' };
    return {
      status: 'ok',
      message:
        action === 'retry'
          ? 'Retry requested: the projector applies the address again on its next batch.'
          : 'Skip recorded: the projector leaves that event out and resumes the address on its next batch.',
    };
  });
}
