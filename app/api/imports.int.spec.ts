import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdAdvisoryLock } from '@/lib/advisory-locks';
import { importLockName, importRunEnded, MAX_UPLOAD_BYTES } from '@/lib/import-jobs';
import { actorOf, credentials, provisionCallers } from '@/test/api';
import { createTestDatabase, type TestDatabase } from '@/test/db';
import { GET as getReport } from './imports/[id]/report/route';
import { GET as getRun } from './imports/[id]/route';
import { POST as upload } from './imports/route';

/*
 * Issue 12's upload (README "Importing addresses"): POST /api/imports runs the CLI's import core in
 * the background; GET /api/imports/{id} and its report follow it. Bad files are refused with a
 * clear message and change nothing; one run at a time per source.
 */

let t: TestDatabase;
let UPLOAD_DIR: string;
beforeAll(async () => {
  // Its own upload folder: other test files upload at the same time.
  UPLOAD_DIR = mkdtempSync(path.join(os.tmpdir(), 'imports-spec-'));
  process.env.IMPORT_UPLOAD_DIR = UPLOAD_DIR;
  t = await createTestDatabase();
  process.env.DATABASE_URL = t.url;
  await provisionCallers(t.prisma);
});
afterAll(async () => {
  await t?.drop();
  rmSync(UPLOAD_DIR, { recursive: true, force: true });
});

const HEADER = 'id,house_number,street,unit,city,district,region,region_code,postal_code,country,lat,lon,source';
// The tag is in the street name too: the duplicate guard refuses the same address under another key.
const GOOD = (tag: string) => [
  `${tag}-1,12,Upload Street ${tag},,Portland,,Maine,ME,04101,US,,,test`,
  `${tag}-2,14,Upload Street ${tag},,Portland,,Maine,ME,04101,US,,,test`,
  `${tag}-3,16,Upload Street ${tag},4B,Portland,,Maine,ME,04101,US,,,test`,
];
const BAD = (tag: string) => [
  `${tag}-4,18,Upload Street ${tag},,Portland,,Maine,ME,ABC-12,US,,,test`,
  `${tag}-5,20,Upload Street ${tag},,,,Maine,ME,04101,USA,,,test`,
];
const csv = (lines: string[]) => `${[HEADER, ...lines].join('\n')}\n`;

const uploadsLeft = () => {
  try {
    return readdirSync(UPLOAD_DIR).length;
  } catch {
    return 0;
  }
};

async function send(
  body: BodyInit | null,
  options: {
    query?: Record<string, string>;
    as?: 'operator' | 'auditor' | 'admin' | 'anonymous';
    headers?: Record<string, string>;
  } = {},
) {
  const url = new URL('http://localhost/api/imports');
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const response = await upload(
    new Request(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/csv', ...credentials(options.as ?? 'operator'), ...options.headers },
      // A streamed body (the over-size test) must say it is one.
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit),
    { params: Promise.resolve({}) },
  );
  return { status: response.status, body: await response.json() };
}

async function counts() {
  const { rows } = await t.pool.query(
    `SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM imports)::int AS imports,
            (SELECT count(*) FROM import_rejections)::int AS rejections`,
  );
  return { ...rows[0], uploads: uploadsLeft() };
}

describe('POST /api/imports', () => {
  it('imports the good rows in the background, as the uploader, and reports the bad ones with their reasons', async () => {
    const source = `good-bad-${randomUUID().slice(0, 8)}`;
    const started = await send(csv([...GOOD(source), ...BAD(source)]), {
      query: { source, filename: 'mixed.csv' },
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ source, fileName: 'mixed.csv', status: 'running' });
    await importRunEnded(started.body.id);

    const status = await getRun(
      new Request(`http://localhost/api/imports/${started.body.id}`, { headers: credentials('operator') }),
      {
        params: Promise.resolve({ id: started.body.id }),
      },
    );
    const run = await status.json();
    expect(run).toMatchObject({
      status: 'done',
      error: null,
      summary: { rows: 5, registered: 3, unchanged: 0, duplicates: 0, rejected: 2 },
    });
    expect(run.bytesRead).toBe(run.fileBytes);

    const events = await t.pool.query(
      `SELECT metadata FROM events WHERE metadata->>'commandId' LIKE $1 ORDER BY position`,
      [`import:${source}:%`],
    );
    expect(events.rows).toHaveLength(3);
    for (const { metadata } of events.rows) {
      expect(metadata.source).toBe('import');
      expect(metadata.actor).toEqual(actorOf('operator'));
      expect(metadata.correlationId).toBe(`import-run:${run.id}`);
    }

    const report = await getReport(
      new Request(`http://localhost/api/imports/${run.id}/report`, { headers: credentials('operator') }),
      { params: Promise.resolve({ id: run.id }) },
    );
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parse(await report.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.row, r.id, r.reasons])).toEqual([
      ['4', `${source}-4`, 'postalCode: postal code ABC-12 is not valid for US'],
      ['5', `${source}-5`, expect.stringMatching(/^city: .+; country: .+/)],
    ]);
    expect(uploadsLeft()).toBe(0);
  });

  it("lists the duplicate guard's rows in the report too, and keeps a rejected row's formula inert", async () => {
    const source = `report-${randomUUID().slice(0, 8)}`;
    const [first] = GOOD(source);
    const started = await send(
      csv([
        first!,
        // The same address as row 1 under another key: not imported, and said so in the report.
        first!.replace(`${source}-1,`, `${source}-copy,`),
        `${source}-f,=HYPERLINK("http://x"),Formula Street,,Portland,,Maine,ME,ABC-12,US,,,test`,
        // A quote inside an unquoted value is a letter, not the end of the run.
        `${source}-q,3,O"Brien Street ${source},,Portland,,Maine,ME,04101,US,,,test`,
      ]),
      { query: { source } },
    );
    expect(started.status).toBe(202);
    await importRunEnded(started.body.id);
    const run = await (
      await getRun(
        new Request(`http://localhost/api/imports/${started.body.id}`, { headers: credentials('operator') }),
        {
          params: Promise.resolve({ id: started.body.id }),
        },
      )
    ).json();
    expect(run).toMatchObject({
      status: 'done',
      error: null,
      summary: { rows: 4, registered: 2, duplicates: 1, rejected: 1 },
    });
    const report = await getReport(
      new Request(`http://localhost/api/imports/${run.id}/report`, { headers: credentials('operator') }),
      { params: Promise.resolve({ id: run.id }) },
    );
    const rows = parse(await report.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.row, r.id, r.house_number, r.street])).toEqual([
      ['2', `${source}-copy`, '12', `Upload Street ${source}`],
      ['3', `${source}-f`, `'=HYPERLINK("http://x")`, 'Formula Street'],
    ]);
    expect(rows[0]!.reasons).toMatch(
      /^duplicate: the same address is registered already as [0-9a-f-]{36} \(not imported\)$/,
    );
    const quoted = await t.pool.query(`SELECT data->>'line1' AS line1 FROM events WHERE metadata->>'commandId' = $1`, [
      `import:${source}:${source}-q`,
    ]);
    expect(quoted.rows).toEqual([{ line1: `3 O"Brien Street ${source}` }]);
  });

  it('uploading the same file again registers nothing twice', async () => {
    const source = `again-${randomUUID().slice(0, 8)}`;
    const file = csv(GOOD(source));
    const first = await send(file, { query: { source } });
    await importRunEnded(first.body.id);
    const before = await counts();
    const second = await send(file, { query: { source } });
    expect(second.status).toBe(202);
    await importRunEnded(second.body.id);
    const again = await t.prisma.import.findUniqueOrThrow({ where: { id: second.body.id } });
    expect(again).toMatchObject({ status: 'done', rows: 3, registered: 0, unchanged: 3, duplicates: 0, rejected: 0 });
    expect((await counts()).events).toBe(before.events);
  });

  it('takes the source from the file name when none is given', async () => {
    const tag = `named-${randomUUID().slice(0, 8)}`;
    const started = await send(csv(GOOD(tag)), { query: { filename: `${tag} list (2).csv` } });
    expect(started.status).toBe(202);
    expect(started.body.source).toBe(`${tag}-list-2-`);
    await importRunEnded(started.body.id);
  });

  const BAD_FILES: Array<[string, () => BodyInit, RegExp]> = [
    ['an empty file', () => '', /the file is empty/],
    ['a header and nothing in its first line', () => '\n\nstreet,city\n', /no header row/],
    [
      'UTF-16 with a byte-order mark',
      () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv(GOOD('u16')), 'utf16le')]),
      /UTF-16/,
    ],
    ['UTF-16 without a byte-order mark', () => Buffer.from(csv(GOOD('u16b')), 'utf16le'), /UTF-16/],
    [
      'binary data',
      () => Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]),
      /binary data/,
    ],
    [
      'Latin-1 text',
      () => Buffer.from(`${HEADER}\nl1-1,1,Rue de l'\xc9glise,,Portland,,Maine,ME,04101,US,,,test\n`, 'latin1'),
      /not UTF-8/,
    ],
    [
      'no recognisable columns',
      () => 'name,phone\nAda,555-0100\n',
      /no column for line 1 \(or street\), city, postal code, country/,
    ],
    ['broken gzip', () => Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7]), /cannot be decompressed/],
    [
      // The CLI looks at the first 64 KiB only; an upload is checked whole before a row goes in.
      'Latin-1 text whose first accent comes after 64 KiB',
      () =>
        Buffer.concat([
          Buffer.from(csv(Array.from({ length: 1500 }, (_, i) => GOOD(`late-latin-${i}`)[0]!))),
          Buffer.from(`late-1,1,Rue de l'\xc9glise,,Portland,,Maine,ME,04101,US,,,test\n`, 'latin1'),
        ]),
      /not UTF-8 text \(a bad byte after byte \d+\)/,
    ],
    [
      'a quote that is never closed',
      () =>
        csv([
          ...GOOD('open-quote'),
          'oq-9,1,"Never Closed Street,,Portland,,Maine,ME,04101,US,,,test',
          ...GOOD('after'),
        ]),
      /row 4 \(the row after 3\) opens a quote that is not closed/,
    ],
    [
      'a NUL byte after 64 KiB',
      () =>
        csv([
          ...Array.from({ length: 1500 }, (_, i) => GOOD(`late-nul-${i}`)[0]!),
          'nul-1,1,Nul\u0000 Street,,Portland,,Maine,ME,04101,US,,,test',
        ]),
      /holds a NUL byte \(byte \d+\)/,
    ],
    ['a header and no rows', () => csv([]), /a header row but no rows of addresses/],
  ];

  for (const [what, body, message] of BAD_FILES) {
    it(`refuses ${what} with a clear message, changing nothing`, async () => {
      const before = await counts();
      const res = await send(body(), { query: { source: `bad-${randomUUID().slice(0, 8)}` } });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.issues).toEqual([{ path: 'file', message: expect.stringMatching(message) }]);
      expect(await counts()).toEqual(before);
    });
  }

  it('refuses what is not sent as CSV (415), changing nothing', async () => {
    const before = await counts();
    const res = await send('{"line1":"x"}', { headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect(await counts()).toEqual(before);
  });

  it('refuses a file over 50 MB by its Content-Length, and one without it once the stream passes the limit', async () => {
    const before = await counts();
    const declared = await send('x', { headers: { 'content-length': String(MAX_UPLOAD_BYTES + 1) } });
    expect(declared.status).toBe(413);
    expect(declared.body.error).toMatchObject({ code: 'payload_too_large', details: { maxBytes: MAX_UPLOAD_BYTES } });

    // A valid CSV that goes on past the limit: refused while streaming, not after buffering it.
    const line = Buffer.from(`${GOOD('big')[0]}\n`);
    let sent = 0;
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (sent === 0) controller.enqueue(Buffer.from(`${HEADER}\n`));
        const chunk = Buffer.concat(Array.from({ length: 4096 }, () => line));
        sent += chunk.length;
        controller.enqueue(chunk);
        if (sent > MAX_UPLOAD_BYTES * 2) controller.close();
      },
    });
    const streamed = await send(stream, { query: { source: `big-${randomUUID().slice(0, 8)}` } });
    expect(streamed.status).toBe(413);
    expect(streamed.body.error.code).toBe('payload_too_large');
    // It stopped reading soon after the limit (not at the stream's end, twice the limit).
    expect(sent).toBeLessThan(MAX_UPLOAD_BYTES * 1.2);
    expect(pulled).toBeGreaterThan(0);
    expect(await counts()).toEqual(before);
  });

  it('refuses a second run of a source while one runs on another instance, and takes other sources meanwhile', async () => {
    const source = `busy-${randomUUID().slice(0, 8)}`;
    // Another instance's run holds the source's lock (lib/import-jobs.ts).
    const lock = await holdAdvisoryLock(t.url, importLockName(source), () => {});
    try {
      const before = await counts();
      const refused = await send(csv(GOOD(source)), { query: { source } });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'import_running', details: { source } });
      expect(refused.body.error.message).toMatch(`an import of source "${source}" is running`);
      expect(await counts()).toEqual(before);

      const other = await send(csv(GOOD(`${source}-other`)), { query: { source: `${source}-other` } });
      expect(other.status).toBe(202);
      await importRunEnded(other.body.id);
    } finally {
      await lock?.end();
    }
    const afterwards = await send(csv(GOOD(source)), { query: { source } });
    expect(afterwards.status).toBe(202);
    await importRunEnded(afterwards.body.id);
  });

  it('refuses a second upload of a source while its first run goes on in this process', async () => {
    const source = `twice-${randomUUID().slice(0, 8)}`;
    // Enough rows that the first run is still going when the second upload arrives.
    const rows = Array.from(
      { length: 3000 },
      (_, i) => `${source}-${i},${i + 1},Busy Street,,Portland,,Maine,ME,04101,US,,,test`,
    );
    const first = await send(csv(rows), { query: { source } });
    expect(first.status).toBe(202);
    const second = await send(csv(GOOD(source)), { query: { source } });
    const run = await t.prisma.import.findUniqueOrThrow({ where: { id: first.body.id } });
    // Either the first was still running (the normal case) and the second refused, or it had
    // already finished and the second ran: never two at once.
    if (run.status === 'running' || second.status === 409) {
      expect(second.status).toBe(409);
      expect(second.body.error.details.importId).toBe(first.body.id);
    }
    await importRunEnded(first.body.id);
    if (second.status === 202) await importRunEnded(second.body.id);
    expect((await t.prisma.import.findUniqueOrThrow({ where: { id: first.body.id } })).status).toBe('done');
  }, 120_000);

  it('shows a run left running by a process that died as interrupted, and closes it on the next upload', async () => {
    const source = `dead-${randomUUID().slice(0, 8)}`;
    const dead = await t.prisma.import.create({
      data: {
        id: randomUUID(),
        source,
        fileName: 'dead.csv',
        fileBytes: 10n,
        status: 'running',
        startedById: 'x',
        startedByName: 'X',
        correlationId: 'import-run:dead',
      },
    });
    const shown = await getRun(
      new Request(`http://localhost/api/imports/${dead.id}`, { headers: credentials('admin') }),
      {
        params: Promise.resolve({ id: dead.id }),
      },
    );
    expect(await shown.json()).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/^interrupted/) });

    const next = await send(csv(GOOD(source)), { query: { source } });
    expect(next.status).toBe(202);
    await importRunEnded(next.body.id);
    expect(await t.prisma.import.findUniqueOrThrow({ where: { id: dead.id } })).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^interrupted/),
    });
  });

  it('is for operators and admins: an auditor gets 403 and an anonymous caller 401, changing nothing', async () => {
    const before = await counts();
    const auditor = await send(csv(GOOD('auditor')), { as: 'auditor' });
    expect(auditor.status).toBe(403);
    expect(auditor.body.error.code).toBe('forbidden');
    const anonymous = await send(csv(GOOD('anon')), { as: 'anonymous' });
    expect(anonymous.status).toBe(401);
    expect(await counts()).toEqual(before);
  });
});

describe('GET /api/imports/{id}', () => {
  it('answers not_found for an unknown run and validation_failed for a malformed id', async () => {
    const unknown = randomUUID();
    const res = await getRun(
      new Request(`http://localhost/api/imports/${unknown}`, { headers: credentials('operator') }),
      {
        params: Promise.resolve({ id: unknown }),
      },
    );
    expect(res.status).toBe(404);
    const report = await getReport(
      new Request('http://localhost/api/imports/x/report', { headers: credentials('operator') }),
      {
        params: Promise.resolve({ id: 'x' }),
      },
    );
    expect(report.status).toBe(422);
  });
});
