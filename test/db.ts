import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPrisma, type Db } from '@/lib/db';

export interface TestDatabase {
  url: string;
  prisma: Db;
  /** A raw pool for tests that need several real connections (e.g. interleaved transactions). */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file, cloned from the template that global-setup
 * migrated: files never see each other's events, and cloning is far faster than migrating.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  // `empty`: a database with no migrations applied, for testing the migrator itself.
  const template = options.empty ? 'template0' : inject('pgTemplateDb');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Two files cloning at the same instant can collide on the template's lock; a retry settles it.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
      }
    }
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const prisma = createPrisma(url.toString(), { max: 30 });
  const pool = new pg.Pool({ connectionString: url.toString(), max: 30 });
  return {
    url: url.toString(),
    prisma,
    pool,
    async drop() {
      await prisma.$disconnect();
      await pool.end();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
