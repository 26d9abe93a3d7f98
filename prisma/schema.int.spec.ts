import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '@/generated/prisma/client';
import { createPrisma, type Db } from '@/lib/db';
import { createTestDatabase, type TestDatabase } from '@/test/db';

/**
 * The SQL migrations are the source of truth for the database; `schema.prisma` is kept in step
 * by hand (Prisma's schema engine is not available on our machines). These tests fail when the
 * two drift: a model or field without a column, a column the schema does not know, a type that
 * does not fit, or a model the generated client cannot write and read back.
 */

// As the owner: this checks the schema, not the runtime role's grants (lib/database-roles.int.spec.ts
// does), and information_schema only shows a role the tables and columns it has a right to.
let db: TestDatabase;
let owner: Db;
beforeAll(async () => {
  db = await createTestDatabase();
  owner = createPrisma(db.ownerUrl, { max: 2 });
});
afterAll(async () => {
  await owner?.$disconnect();
  await db?.drop();
});

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
  Bytes: ['bytea'],
};

describe('schema.prisma and the migrations', () => {
  it('map every model field to a column of a fitting type, and every column to a field', async () => {
    const models = runtimeModels(owner);
    const unsupported = unsupportedColumns();
    const problems: string[] = [];
    for (const [name, model] of Object.entries(models)) {
      const table = model.dbName ?? name;
      const { rows } = await db.ownerPool.query<{ column_name: string; data_type: string }>(
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
    const { rows: tables } = await db.ownerPool.query<{ table_name: string }>(
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

/**
 * One write-and-read-back per model: what was written must come back field for field (a column
 * mapped to the wrong name or type fails here). A model added without one fails the completeness
 * test below.
 */
type RoundTrip = (client: Db) => Promise<{ written: Record<string, unknown>; read: unknown }>;
const roundTrips: Record<Prisma.ModelName, RoundTrip> = {
  Event: async (c) => {
    const eventId = randomUUID();
    const written = {
      streamId: `schema-${eventId}`,
      streamVersion: 1,
      eventId,
      type: 'T',
      schemaVersion: 1,
      data: { line1: '1 Main Street' },
      metadata: { source: 'api' },
    };
    await c.event.create({ data: written });
    return { written, read: await c.event.findUniqueOrThrow({ where: { eventId } }) };
  },
  AccessLog: async (c) => {
    const written = {
      accessedAt: new Date(),
      actorId: 'a',
      actorName: 'A',
      actorRole: 'auditor',
      action: 'audit.page',
      filter: { q: 'actor:ada' },
      rowCount: 1,
      requestId: randomUUID(),
    };
    await c.accessLog.create({ data: written });
    return { written, read: await c.accessLog.findFirstOrThrow({ where: { requestId: written.requestId } }) };
  },
  ProcessedCommand: async (c) => {
    const written = { commandId: randomUUID(), requestHash: 'h', streamId: 's', result: { ok: true } };
    await c.processedCommand.create({ data: written });
    return { written, read: await c.processedCommand.findUniqueOrThrow({ where: { commandId: written.commandId } }) };
  },
  AddressKey: async (c) => {
    // The trigger writes these rows; the test role may too, the runtime role may only read them.
    const streamId = `schema-${randomUUID()}`;
    const written = {
      streamId,
      line1: '1 Main Street',
      line2: 'Unit 2',
      postalCode: '04210',
      country: 'US',
      owner: 'C-1',
      active: false,
      key: streamId,
    };
    await c.addressKey.create({ data: written });
    return { written, read: await c.addressKey.findUniqueOrThrow({ where: { streamId } }) };
  },
  StreamHead: async (c) => {
    // The trigger on `events` writes heads; the owner may too (the runtime role only reads them).
    const written = { streamId: `schema-${randomUUID()}`, version: 3, hash: new Uint8Array(32).fill(7) };
    await c.streamHead.create({ data: written });
    return { written, read: await c.streamHead.findUniqueOrThrow({ where: { streamId: written.streamId } }) };
  },
  StreamSnapshot: async (c) => {
    const written = { streamId: `schema-${randomUUID()}`, kind: 'address', shape: 1, version: 2, state: { a: 1 } };
    await c.streamSnapshot.create({ data: written });
    const key = { streamId: written.streamId, kind: written.kind, shape: written.shape };
    return { written, read: await c.streamSnapshot.findUniqueOrThrow({ where: { streamId_kind_shape: key } }) };
  },
  User: async (c) => {
    const written = {
      email: `${randomUUID()}@example.test`,
      name: 'N',
      role: 'auditor' as const,
      passwordHash: '$argon2id$not-a-real-hash',
    };
    await c.user.create({ data: written });
    return { written, read: await c.user.findUniqueOrThrow({ where: { email: written.email } }) };
  },
  Session: async (c) => {
    const user = await c.user.create({
      data: { email: `${randomUUID()}@example.test`, name: 'N', role: 'operator', passwordHash: '$argon2id$x' },
    });
    const written = { idHash: randomUUID(), userId: user.id, expiresAt: new Date(Date.now() + 60_000) };
    await c.session.create({ data: written });
    const read = await c.session.findUniqueOrThrow({ where: { idHash: written.idHash }, include: { user: true } });
    expect(read.user.email).toBe(user.email);
    return { written, read };
  },
  ApiToken: async (c) => {
    const written = { name: 'n', role: 'operator' as const, tokenHash: randomUUID(), prefix: 'p' };
    await c.apiToken.create({ data: written });
    return { written, read: await c.apiToken.findUniqueOrThrow({ where: { tokenHash: written.tokenHash } }) };
  },
  AppSecret: async (c) => {
    const written = { name: randomUUID(), value: 'v' };
    await c.appSecret.create({ data: written });
    return { written, read: await c.appSecret.findUniqueOrThrow({ where: { name: written.name } }) };
  },
  SignInLimit: async (c) => {
    const written = { key: randomUUID(), points: 1, expire: new Date() };
    await c.signInLimit.create({ data: written });
    return { written, read: await c.signInLimit.findUniqueOrThrow({ where: { key: written.key } }) };
  },
  ReadModelTable: async (c) => {
    const written = { name: `schema_${randomUUID()}` };
    await c.readModelTable.create({ data: written });
    return { written, read: await c.readModelTable.findUniqueOrThrow({ where: { name: written.name } }) };
  },
  ProjectionCheckpoint: async (c) => {
    const written = { name: `schema-${randomUUID()}` };
    await c.projectionCheckpoint.create({ data: written });
    return { written, read: await c.projectionCheckpoint.findUniqueOrThrow({ where: { name: written.name } }) };
  },
  ProjectionDigest: async (c) => {
    // hash_sum is a sum of 64-bit hashes, beyond a JS number: compared as text.
    const written = {
      projection: `schema-${randomUUID()}`,
      rangeStart: 20_000n,
      eventCount: 3n,
      hashSum: '-18446744073709551617',
    };
    await c.projectionDigest.create({ data: written });
    const read = await c.projectionDigest.findUniqueOrThrow({
      where: { projection_rangeStart: { projection: written.projection, rangeStart: 20_000n } },
    });
    return { written, read: { ...read, hashSum: read.hashSum.toString() } };
  },
  ParkedStream: async (c) => {
    const written = {
      projection: 'address_view',
      streamId: `address-${randomUUID()}`,
      eventId: randomUUID(),
      eventType: 'AddressChanged',
      position: 42n,
      streamVersion: 2,
      error: 'UpcastError: newer than this code understands',
      requested: 'retry',
      requestedAt: new Date(),
    };
    await c.parkedStream.create({ data: written });
    return {
      written,
      read: await c.parkedStream.findUniqueOrThrow({
        where: { projection_streamId: { projection: written.projection, streamId: written.streamId } },
      }),
    };
  },
  ParkedStreamDecision: async (c) => {
    const written = {
      projection: 'address_view',
      streamId: `address-${randomUUID()}`,
      eventId: randomUUID(),
      eventType: 'AddressChanged',
      position: 42n,
      action: 'skip',
      reason: 'written by a broken importer',
      actorId: 'a',
      actorName: 'A',
      actorRole: 'admin',
    };
    await c.parkedStreamDecision.create({ data: written });
    return { written, read: await c.parkedStreamDecision.findFirstOrThrow({ where: { streamId: written.streamId } }) };
  },
  AddressView: async (c) => {
    const addressId = randomUUID();
    const now = new Date();
    const written = {
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
    };
    await c.addressView.create({ data: written });
    return { written, read: await c.addressView.findUniqueOrThrow({ where: { addressId } }) };
  },
  AddressSearch: async (c) => {
    const written = {
      id: randomUUID(),
      version: 1,
      status: 'active',
      city: 'Auburn',
      postalCode: '04210',
      country: 'US',
      updatedAt: new Date(),
      doc: { line1: '1 Main Street' },
      searchPrimary: '1 main street',
      searchSecondary: 'auburn',
    };
    await c.addressSearch.create({ data: written });
    return { written, read: await c.addressSearch.findUniqueOrThrow({ where: { id: written.id } }) };
  },
  AddressSearchWord: async (c) => {
    const written = { word: `schema${randomUUID().slice(0, 8)}`, documents: 3 };
    await c.addressSearchWord.create({ data: written });
    return { written, read: await c.addressSearchWord.findUniqueOrThrow({ where: { word: written.word } }) };
  },
  EventSeal: async (c) => {
    // Rows only: whether a signature is good is verify's business (lib/integrity/verify.int.spec.ts).
    const written = {
      seq: BigInt(Date.now()),
      headCursor: '1-1',
      headPosition: 1n,
      eventCount: 1n,
      digest: new Uint8Array(32).fill(7),
      publicKey: 'k',
      signature: new Uint8Array(64).fill(9),
      sealedAt: new Date(),
    };
    await c.eventSeal.create({ data: written });
    return { written, read: await c.eventSeal.findUniqueOrThrow({ where: { seq: written.seq } }) };
  },
  EventSealEntry: async (c) => {
    const seq = BigInt(Date.now()) + 1n;
    await c.eventSeal.create({
      data: {
        seq,
        headCursor: '1-1',
        headPosition: 1n,
        eventCount: 1n,
        digest: new Uint8Array(32),
        publicKey: 'k',
        signature: new Uint8Array(64),
        sealedAt: new Date(),
      },
    });
    const written = { ordinal: seq, position: seq, hash: new Uint8Array(32).fill(3), sealSeq: seq };
    await c.eventSealEntry.create({ data: written });
    const read = await c.eventSealEntry.findUniqueOrThrow({ where: { ordinal: seq }, include: { seal: true } });
    expect(read.seal.seq).toBe(seq);
    return { written, read };
  },
  Import: async (c) => {
    const written = {
      id: randomUUID(),
      source: `schema-${randomUUID()}`,
      fileName: 'a.csv',
      fileBytes: 10n,
      status: 'done',
      startedById: 'a',
      startedByName: 'A',
      correlationId: 'c',
      header: ['street', 'city'],
      rows: 2,
      rejected: 1,
      finishedAt: new Date(),
    };
    await c.import.create({ data: written });
    return { written, read: await c.import.findUniqueOrThrow({ where: { id: written.id } }) };
  },
  ImportRejection: async (c) => {
    const run = await c.import.create({
      data: {
        id: randomUUID(),
        source: `schema-${randomUUID()}`,
        fileName: 'b.csv',
        fileBytes: 1n,
        status: 'running',
        startedById: 'a',
        startedByName: 'A',
        correlationId: 'c',
      },
    });
    const written = { importId: run.id, rowNumber: 3, reasons: 'city: required', raw: { city: '' } };
    await c.importRejection.create({ data: written });
    const read = await c.importRejection.findUniqueOrThrow({
      where: { importId_rowNumber: { importId: run.id, rowNumber: 3 } },
    });
    return { written, read };
  },
  AuditEventCity: async (c) => {
    // The trigger on events writes these rows; the owner may too (the runtime role only reads).
    const position = BigInt(9_000_000_000 + Math.floor(Math.random() * 1_000_000));
    const written = { position, streamId: `schema-${randomUUID()}`, streamVersion: 1, city: 'portland' };
    await c.auditEventCity.create({ data: written });
    return { written, read: await c.auditEventCity.findUniqueOrThrow({ where: { position } }) };
  },
  IntegrityVerification: async (c) => {
    const written = {
      source: 'cli',
      startedAt: new Date(),
      result: 'intact',
      summary: { events: 0 },
      problems: [{ kind: 'changed', position: '1' }],
    };
    const row = await c.integrityVerification.create({ data: written });
    return { written, read: await c.integrityVerification.findUniqueOrThrow({ where: { id: row.id } }) };
  },
};

describe('the generated client', () => {
  it('has a round trip for every model', () => {
    expect(Object.keys(roundTrips).sort()).toEqual(Object.values(Prisma.ModelName).sort());
  });

  it.each(Object.keys(roundTrips) as Prisma.ModelName[])('writes and reads back a %s', async (model) => {
    const { written, read } = await roundTrips[model](owner);
    expect(read).toMatchObject(written);
  });
});
