import { z } from 'zod';
import {
  addressChangesSchema,
  addressFieldsSchema,
  optionalReasonSchema,
  reasonSchema,
} from '@/lib/validation/address';

/** The version the client last saw; every mutating request carries it (DESIGN §6). */
const expectedVersion = z.number({ error: 'expectedVersion must be the version you last loaded' }).int().min(1);
const version = z.number().int().min(1);

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

/** `types=A,B`: event types to include in a feed (all when absent). */
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
  );
