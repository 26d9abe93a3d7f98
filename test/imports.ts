import { randomUUID } from 'node:crypto';
import type { Db } from '@/lib/db';

/** A finished upload's record (lib/import-jobs.ts), with one rejected row, for route tests. */
export async function seedImportRun(db: Db, startedBy: { id: string; name: string }): Promise<string> {
  const id = randomUUID();
  await db.import.create({
    data: {
      id,
      source: `seeded-${id}`,
      fileName: 'seeded.csv',
      fileBytes: 10n,
      status: 'done',
      startedById: startedBy.id,
      startedByName: startedBy.name,
      correlationId: `import-run:${id}`,
      header: ['street', 'city'],
      rows: 1,
      rejected: 1,
      rejections: { create: { rowNumber: 1, reasons: 'city: required', raw: { street: '=1+1', city: '' } } },
    },
  });
  return id;
}
