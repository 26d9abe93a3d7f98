import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '@/generated/prisma/client';
import type { Db } from '@/lib/db';
import { createTestDatabase, type TestDatabase } from '@/test/db';

/**
 * The SQL migrations are the source of truth for the database; `schema.prisma` is kept in step
 * by hand (Prisma's schema engine is not available on our machines). These tests fail when the
 * two drift: a model or field without a column, a column the schema does not know, a type that
 * does not fit, or a model the generated client cannot write and read back.
 */

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

interface RuntimeField {
  name: string;
  kind: string;
  type: string;
  dbName?: string | null;
}
interface RuntimeModel {
  dbName: string | null;
  fields: RuntimeField[];
}

function runtimeModels(client: Db): Record<string, RuntimeModel> {
  const model = (client as unknown as { _runtimeDataModel?: { models: Record<string, RuntimeModel> } })
    ._runtimeDataModel;
  if (!model) throw new Error('the generated client no longer exposes its data model; update this test');
  return model.models;
}

/** Columns declared `Unsupported(...)` in schema.prisma (e.g. xid8, tsvector) are not in the runtime model. */
function unsupportedColumns(): Set<string> {
  const text = readFileSync(path.resolve('prisma/schema.prisma'), 'utf8');
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.includes('Unsupported(')) continue;
    const mapped = /@map\("([^"]+)"\)/.exec(line)?.[1] ?? line.trim().split(/\s+/)[0];
    if (mapped) names.add(mapped);
  }
  return names;
}

const TYPE_FAMILIES: Record<string, string[]> = {
  String: ['text', 'character varying', 'uuid', 'character'],
  Int: ['integer', 'smallint'],
  BigInt: ['bigint'],
  DateTime: ['timestamp with time zone', 'timestamp without time zone', 'date'],
  Json: ['jsonb', 'json'],
  Boolean: ['boolean'],
  Float: ['double precision', 'real'],
  Decimal: ['numeric'],
};

describe('schema.prisma and the migrations', () => {
  it('map every model field to a column of a fitting type, and every column to a field', async () => {
    const models = runtimeModels(db.prisma);
    const unsupported = unsupportedColumns();
    const problems: string[] = [];
    for (const [name, model] of Object.entries(models)) {
      const table = model.dbName ?? name;
      const { rows } = await db.pool.query<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = $1`,
        [table],
      );
      if (rows.length === 0) {
        problems.push(`model ${name}: table ${table} does not exist`);
        continue;
      }
      const columns = new Map(rows.map((r) => [r.column_name, r.data_type]));
      const scalarColumns = new Set<string>();
      for (const field of model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum')) {
        const column = field.dbName ?? field.name;
        scalarColumns.add(column);
        const type = columns.get(column);
        if (!type) problems.push(`${name}.${field.name}: column ${table}.${column} does not exist`);
        else if (!(TYPE_FAMILIES[field.type] ?? []).includes(type)) {
          problems.push(`${name}.${field.name}: ${field.type} does not fit column type ${type}`);
        }
      }
      for (const column of columns.keys()) {
        if (!scalarColumns.has(column) && !unsupported.has(column)) {
          problems.push(`${table}.${column} is not in model ${name}`);
        }
      }
    }
    const { rows: tables } = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`,
    );
    const modelled = new Set(Object.entries(models).map(([n, m]) => m.dbName ?? n));
    for (const { table_name } of tables) {
      if (!modelled.has(table_name)) problems.push(`table ${table_name} has no model in schema.prisma`);
    }
    expect(problems).toEqual([]);
  });
});

/** One write-and-read-back per model; a model added without one here fails the completeness test. */
const roundTrips: Record<Prisma.ModelName, (client: Db) => Promise<unknown>> = {
  Event: async (c) => {
    const eventId = randomUUID();
    await c.event.create({
      data: {
        streamId: `schema-${eventId}`,
        streamVersion: 1,
        eventId,
        type: 'T',
        schemaVersion: 1,
        data: {},
        metadata: {},
      },
    });
    return c.event.findUniqueOrThrow({ where: { eventId } });
  },
  AccessLog: async (c) => {
    const requestId = randomUUID();
    await c.accessLog.create({
      data: {
        accessedAt: new Date(),
        actorId: 'a',
        actorName: 'A',
        actorRole: 'auditor',
        action: 'audit.page',
        rowCount: 1,
        requestId,
      },
    });
    return c.accessLog.findFirstOrThrow({ where: { requestId } });
  },
  ProcessedCommand: async (c) => {
    const commandId = randomUUID();
    await c.processedCommand.create({ data: { commandId, requestHash: 'h', streamId: 's', result: { ok: true } } });
    return c.processedCommand.findUniqueOrThrow({ where: { commandId } });
  },
  User: async (c) => {
    const email = `${randomUUID()}@example.test`;
    await c.user.create({ data: { email, name: 'N', role: 'auditor', passwordHash: '$argon2id$not-a-real-hash' } });
    return c.user.findUniqueOrThrow({ where: { email } });
  },
  Session: async (c) => {
    const user = await c.user.create({
      data: { email: `${randomUUID()}@example.test`, name: 'N', role: 'operator', passwordHash: '$argon2id$x' },
    });
    const idHash = randomUUID();
    await c.session.create({ data: { idHash, userId: user.id, expiresAt: new Date(Date.now() + 60_000) } });
    return c.session.findUniqueOrThrow({ where: { idHash }, include: { user: true } });
  },
  ApiToken: async (c) => {
    const tokenHash = randomUUID();
    await c.apiToken.create({ data: { name: 'n', role: 'operator', tokenHash, prefix: 'p' } });
    return c.apiToken.findUniqueOrThrow({ where: { tokenHash } });
  },
  AppSecret: async (c) => {
    const name = randomUUID();
    await c.appSecret.create({ data: { name, value: 'v' } });
    return c.appSecret.findUniqueOrThrow({ where: { name } });
  },
  SignInLimit: async (c) => {
    const key = randomUUID();
    await c.signInLimit.create({ data: { key, points: 1, expire: new Date() } });
    return c.signInLimit.findUniqueOrThrow({ where: { key } });
  },
  ProjectionCheckpoint: async (c) => {
    const name = `schema-${randomUUID()}`;
    await c.projectionCheckpoint.create({ data: { name } });
    return c.projectionCheckpoint.findUniqueOrThrow({ where: { name } });
  },
  AddressView: async (c) => {
    const addressId = randomUUID();
    const now = new Date();
    await c.addressView.create({
      data: {
        addressId,
        streamId: `address-${addressId}`,
        version: 1,
        status: 'active',
        line1: '1 Main Street',
        city: 'Auburn',
        postalCode: '04210',
        country: 'US',
        registeredAt: now,
        updatedAt: now,
        lastEventType: 'AddressRegistered',
        lastPosition: 1n,
        lastActorId: 'a',
        lastActorName: 'A',
        lastActorRole: 'operator',
      },
    });
    return c.addressView.findUniqueOrThrow({ where: { addressId } });
  },
  AddressSearch: async (c) => {
    const id = randomUUID();
    await c.addressSearch.create({
      data: {
        id,
        version: 1,
        status: 'active',
        city: 'Auburn',
        postalCode: '04210',
        country: 'US',
        updatedAt: new Date(),
        doc: {},
        searchPrimary: '1 main street',
        searchSecondary: 'auburn',
      },
    });
    return c.addressSearch.findUniqueOrThrow({ where: { id } });
  },
};

describe('the generated client', () => {
  it('has a round trip for every model', () => {
    expect(Object.keys(roundTrips).sort()).toEqual(Object.values(Prisma.ModelName).sort());
  });

  it.each(Object.keys(roundTrips) as Prisma.ModelName[])('writes and reads back a %s', async (model) => {
    const row = await roundTrips[model](db.prisma);
    expect(row).toBeTruthy();
  });
});
