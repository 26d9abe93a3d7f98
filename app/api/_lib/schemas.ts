import { z } from 'zod';
import {
  addressChangesSchema,
  addressFieldsSchema,
  optionalReasonSchema,
  reasonSchema,
} from '@/lib/validation/address';

/** Stream versions are PostgreSQL integers: a larger number cannot name a version (it was a 500). */
export const MAX_VERSION = 2_147_483_647;

/** The version the client last saw; every mutating request carries it. */
const expectedVersion = z
  .number({ error: 'expectedVersion must be the version you last loaded' })
  .int()
  .min(1)
  .max(MAX_VERSION);
const version = z.number().int().min(1).max(MAX_VERSION);

export const registerBody = addressFieldsSchema;

export const changeBody = z.strictObject({
  expectedVersion,
  changes: addressChangesSchema,
  reason: optionalReasonSchema,
});

export const correctionBody = z.strictObject({
  expectedVersion,
  corrects: version,
  fields: addressChangesSchema,
  reason: reasonSchema,
});

export const revertBody = z.strictObject({ expectedVersion, version, reason: reasonSchema });
export const archiveBody = z.strictObject({ expectedVersion, reason: reasonSchema });
export const restoreBody = z.strictObject({ expectedVersion, reason: optionalReasonSchema });

const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

/** `types=A,B`: event types to include in a feed (all when absent); names only, so no NUL reaches SQL. */
export const eventTypesParam = z
  .string()
  .max(500)
  .optional()
  .transform((t) =>
    t
      ? t
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined,
  )
  .refine((types) => types?.every((type) => EVENT_TYPE.test(type)) ?? true, {
    error: 'types must be event type names separated by commas, such as AddressRegistered,AddressChanged',
  });

/** An admin's decision about a parked address (projections/parking.ts). */
export const retryParkedBody = z.strictObject({ reason: optionalReasonSchema });
export const skipParkedBody = z.strictObject({ reason: reasonSchema });
/** The `{id}` of /api/imports/{id} and its report. */
export const importIdParams = z.object({ id: z.uuid() });
