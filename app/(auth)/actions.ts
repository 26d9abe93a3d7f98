'use server';

import { redirect } from 'next/navigation';
import { z } from 'zod';
import { type FormState, fieldErrors } from '@/app/_lib/form-state';
import { clearSession, clientIp, deviceCookie, setDeviceCookie, setSessionCookie } from '@/lib/auth/browser-session';
import { AccountRuleError } from '@/lib/auth/errors';
import { passwordSchema } from '@/lib/auth/passwords';
import { createSession } from '@/lib/auth/sessions';
import { signIn } from '@/lib/auth/sign-in';
import { createFirstAdmin, emailSchema, nameSchema } from '@/lib/auth/users';
import { prisma } from '@/lib/db';
import { afterSignIn } from './_lib/safe-next';

/*
 * Sign-in, first-run setup and sign-out. Thin: zod → lib/auth → cookie → redirect. The password is
 * never echoed back to the form, logged or stored in clear.
 */

const text = (formData: FormData, name: string) => {
  const v = formData.get(name);
  return typeof v === 'string' ? v : '';
};

export async function signInAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const email = text(formData, 'email');
  const result = await signIn(prisma(), {
    email,
    password: text(formData, 'password'),
    ip: await clientIp(),
    device: await deviceCookie(),
  });
  if (!result.ok) return { status: 'rejected', message: result.message, values: { email: email.slice(0, 254) } };
  await setSessionCookie(result.sealedSession);
  await setDeviceCookie(result.deviceCookie);
  redirect(afterSignIn(text(formData, 'next')));
}

const setupSchema = z
  .object({ name: nameSchema, email: emailSchema, password: passwordSchema, confirm: z.string() })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'the two passwords differ' });

export async function setupAction(_previous: FormState, formData: FormData): Promise<FormState> {
  const input = { name: text(formData, 'name'), email: text(formData, 'email') };
  const parsed = setupSchema.safeParse({
    ...input,
    password: text(formData, 'password'),
    confirm: text(formData, 'confirm'),
  });
  if (!parsed.success) {
    return {
      status: 'invalid',
      message: 'Please correct the highlighted fields.',
      errors: fieldErrors(parsed.error.issues),
      values: input,
    };
  }
  const db = prisma();
  let userId: string;
  try {
    userId = (await createFirstAdmin(db, parsed.data)).id;
  } catch (error) {
    if (error instanceof AccountRuleError && error.rule === 'setup_closed') redirect('/sign-in');
    throw error;
  }
  // The new admin is signed in straight away and lands on the admin page to invite the others.
  await setSessionCookie(await createSession(db, userId));
  redirect('/admin');
}

export async function signOutAction(): Promise<void> {
  await clearSession();
  redirect('/sign-in?signed-out=1');
}
