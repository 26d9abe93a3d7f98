/**
 * The write path, each contender in the same run on the same server with pools of POOL_SIZE:
 *
 *   1 writer, command    ledger.handle(RegisterAddress)   vs   one plain INSERT per event
 *                        vs   Emmett's DeciderCommandHandler running the Address decider
 *   1 writer, append     store.append of one event        vs   INSERT   vs   appendToStream
 *   8 writers, command   as the first, 8 at once on different streams (8 clients for INSERT)
 *   100-event batch      store.append of 100 events on a new stream   vs   one multi-row INSERT
 *                        of 100 rows   vs   appendToStream of the same 100 events
 *   long history         ChangeAddress on an address of ≈ 10,000 events (p50)   vs   the same on
 *                        a fresh address   vs   Emmett's handler on both; then CorrectAddress and
 *                        RevertChange on the long address   vs   on a fresh one
 *   every trigger        append_events as it is, on `events` with every trigger (hash chain,
 *                        duplicate guard, stream heads, audit cities)   vs   the first
 *                        append_events (no hash) on a copy of `events` without any trigger: what
 *                        everything added to the append since costs together (no goal)
 *
 * Inputs (commands, events) are made before the clock starts, the same for every contender.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { STREAM_DOES_NOT_EXIST } from '@event-driven-io/emmett';
import type pg from 'pg';
import { type AddressCommand, type AddressEvent, addressStreamId } from '@/domain/address';
import type { BenchContext } from './context';
import { type FigureInput, inParallel, median, progress, RUNS, repeat, seconds } from './measure';
import { changeCommand, correctCommand, historyOf, registerCommand, revertCommand, toNewEvents } from './workload';

export interface Scenario {
  name: string;
  run(ctx: BenchContext): Promise<FigureInput[]>;
}

const PLAIN_TABLE = `CREATE TABLE IF NOT EXISTS bench_plain (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  stream_id text NOT NULL, type text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL)`;

/** Items per second of `op` over `items`, `concurrency` at a time, with a progress bar. */
async function rate<T>(label: string, items: readonly T[], op: (item: T) => Promise<unknown>, concurrency = 1) {
  const bar = progress(label, items.length);
  let done = 0;
  const t = process.hrtime.bigint();
  await inParallel(items, concurrency, async (item) => {
    await op(item);
    bar.update(++done);
  });
  const s = seconds(t);
  bar.stop();
  return items.length / s;
}

const streamOf = (command: AddressCommand) => addressStreamId(command.data.addressId);

function rawInsert(pool: pg.Pool, streamId: string, event: AddressEvent) {
  return pool.query('INSERT INTO bench_plain (stream_id, type, data, metadata) VALUES ($1, $2, $3, $4)', [
    streamId,
    event.type,
    JSON.stringify(event.data),
    JSON.stringify(event.metadata),
  ]);
}

function rawMultiRowInsert(pool: pg.Pool, streamId: string, events: readonly AddressEvent[]) {
  const values = events.map((_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`);
  return pool.query(
    `INSERT INTO bench_plain (stream_id, type, data, metadata) VALUES ${values.join(', ')}`,
    events.flatMap((e) => [streamId, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata)]),
  );
}

/** One registration per item: the command for the handlers, its event for the appends. */
function registrations(n: number) {
  return Array.from({ length: n }, () => {
    const command = registerCommand();
    return { command, streamId: streamOf(command), events: historyOf(command.data.addressId, 1) };
  });
}

function commandScenario(name: string, writers: number, size: { quick: number; full: number }): Scenario {
  return {
    name,
    async run(ctx) {
      await ctx.ownerPool.query(PLAIN_TABLE);
      const n = ctx.quick ? size.quick : size.full;
      const contenders = {
        ours: (items: ReturnType<typeof registrations>) =>
          rate(`${name}: handle`, items, (i) => ctx.ledger.handle(i.command), writers),
        'raw INSERT': (items: ReturnType<typeof registrations>) =>
          rate(`${name}: INSERT`, items, (i) => rawInsert(ctx.ownerPool, i.streamId, i.events[0]!), writers),
        'Emmett decider handler': (items: ReturnType<typeof registrations>) =>
          rate(`${name}: Emmett`, items, (i) => ctx.emmett.handle(i.command.data.addressId, i.command), writers),
      };
      for (const warm of Object.values(contenders)) await warm(registrations(Math.min(50, n)));
      const runs = await repeat(name, {
        ours: () => contenders.ours(registrations(n)),
        'raw INSERT': () => contenders['raw INSERT'](registrations(n)),
        'Emmett decider handler': () => contenders['Emmett decider handler'](registrations(n)),
      });
      const { ours, ...baselines } = runs;
      if (writers === 8) ctx.measured.commandsPerSecond8 = median(ours);
      return [
        {
          name: `${name}: RegisterAddress command`,
          unit: 'commands/s',
          better: 'higher',
          ours,
          baselines: {
            [writers === 1 ? 'raw INSERT' : `raw INSERT, ${writers} clients`]: baselines['raw INSERT'],
            'Emmett decider handler': baselines['Emmett decider handler'],
          },
        },
      ];
    },
  };
}

const bareAppend: Scenario = {
  name: '1 writer, bare append',
  async run(ctx) {
    await ctx.ownerPool.query(PLAIN_TABLE);
    const n = ctx.quick ? 150 : 1000;
    type Items = ReturnType<typeof registrations>;
    const contenders = {
      ours: (items: Items) =>
        rate('append: store.append', items, (i) =>
          ctx.ledger.store.append(i.streamId, toNewEvents(i.events), { expectedVersion: 0 }),
        ),
      'raw INSERT': (items: Items) =>
        rate('append: INSERT', items, (i) => rawInsert(ctx.ownerPool, i.streamId, i.events[0]!)),
      'Emmett appendToStream': (items: Items) =>
        rate('append: Emmett', items, (i) =>
          ctx.emmett.store.appendToStream(i.streamId, i.events as never, {
            expectedStreamVersion: STREAM_DOES_NOT_EXIST,
          }),
        ),
    };
    for (const warm of Object.values(contenders)) await warm(registrations(Math.min(50, n)));
    const { ours, ...baselines } = await repeat('1 writer, bare append', {
      ours: () => contenders.ours(registrations(n)),
      'raw INSERT': () => contenders['raw INSERT'](registrations(n)),
      'Emmett appendToStream': () => contenders['Emmett appendToStream'](registrations(n)),
    });
    return [{ name: '1 writer: bare append, 1 event', unit: 'appends/s', better: 'higher', ours, baselines }];
  },
};

const batchAppend: Scenario = {
  name: '100-event batch append',
  async run(ctx) {
    await ctx.ownerPool.query(PLAIN_TABLE);
    const batches = ctx.quick ? 10 : 60;
    const make = (k: number) =>
      Array.from({ length: k }, () => {
        const id = randomUUID();
        return { streamId: addressStreamId(id), events: historyOf(id, 100) };
      });
    type Items = ReturnType<typeof make>;
    const perSecond = async (items: Items, label: string, op: (i: Items[number]) => Promise<unknown>) =>
      (await rate(label, items, op)) * 100;
    const contenders = {
      ours: (items: Items) =>
        perSecond(items, 'batch: store.append', (i) =>
          ctx.ledger.store.append(i.streamId, toNewEvents(i.events), { expectedVersion: 0 }),
        ),
      'raw multi-row INSERT': (items: Items) =>
        perSecond(items, 'batch: multi-row INSERT', (i) => rawMultiRowInsert(ctx.ownerPool, i.streamId, i.events)),
      'Emmett appendToStream': (items: Items) =>
        perSecond(items, 'batch: Emmett', (i) =>
          ctx.emmett.store.appendToStream(i.streamId, i.events as never, {
            expectedStreamVersion: STREAM_DOES_NOT_EXIST,
          }),
        ),
    };
    for (const warm of Object.values(contenders)) await warm(make(3));
    const { ours, ...baselines } = await repeat('100-event batch append', {
      ours: () => contenders.ours(make(batches)),
      'raw multi-row INSERT': () => contenders['raw multi-row INSERT'](make(batches)),
      'Emmett appendToStream': () => contenders['Emmett appendToStream'](make(batches)),
    });
    return [{ name: '100-event batch append (one stream)', unit: 'events/s', better: 'higher', ours, baselines }];
  },
};

/** The long address's history when the last measured command lands (--quick: a shorter one). */
const LONG_HISTORY = { full: 10_000, quick: 2_000 };

const longHistory: Scenario = {
  name: 'long history',
  async run(ctx) {
    const perRun = ctx.quick ? 5 : 10;
    const end = ctx.quick ? LONG_HISTORY.quick : LONG_HISTORY.full;
    const start = end - RUNS * perRun;
    const longId = randomUUID();
    const events = historyOf(longId, start);
    const bar = progress('long history: seed', events.length * 2);
    for (let v = 0; v < events.length; v += 500) {
      const chunk = events.slice(v, v + 500);
      await ctx.ledger.store.append(addressStreamId(longId), toNewEvents(chunk), { expectedVersion: v });
      await ctx.emmett.store.appendToStream(addressStreamId(longId), chunk as never, {
        expectedStreamVersion: v === 0 ? STREAM_DOES_NOT_EXIST : BigInt(v),
      });
      bar.update((v + chunk.length) * 2);
    }
    bar.stop();
    // Each op is made (and may read the stream's version) before the clock starts.
    const latencies = async (op: (addressId: string) => Promise<() => Promise<unknown>>, addressId: string) => {
      const out: number[] = [];
      for (let i = 0; i < perRun; i++) {
        const run = await op(addressId);
        const t = process.hrtime.bigint();
        await run();
        out.push(seconds(t) * 1000);
      }
      return median(out);
    };
    const handle = (command: AddressCommand) => () => ctx.ledger.handle(command);
    const ours = async (id: string) => handle(changeCommand(id));
    const emmett = async (id: string) => () => ctx.emmett.handle(id, changeCommand(id));
    const fresh = async (register: (c: AddressCommand) => Promise<unknown>) => {
      const c = registerCommand();
      await register(c);
      return c.data.addressId;
    };
    const freshOurs = () => fresh((c) => ctx.ledger.handle(c));
    /** A fresh address at version 2 (a change to correct or revert). */
    const freshChanged = async () => {
      const id = await freshOurs();
      await ctx.ledger.handle(changeCommand(id));
      return id;
    };
    const versionOf = (id: string) => ctx.ledger.store.streamVersion(addressStreamId(id));
    const runs = await repeat('long history', {
      ours: () => latencies(ours, longId),
      'ours, fresh address': async () => latencies(ours, await freshOurs()),
      'Emmett, same long address': () => latencies(emmett, longId),
      'Emmett, fresh address': async () =>
        latencies(emmett, await fresh((c) => ctx.emmett.handle(c.data.addressId, c))),
    });
    // A correction names an old version (here the oldest change); its decision needs only the
    // current state, so it should cost what a change costs.
    const correct = async (id: string) => handle(correctCommand(id, 2));
    const corrections = await repeat('long history: correct', {
      ours: () => latencies(correct, longId),
      'ours, fresh address': async () => latencies(correct, await freshChanged()),
    });
    // A revert compares the version it undoes with every later one: it is decided on the lookback
    // of every version (a snapshot of its own kind plus the events after it), so it should cost
    // what a change costs too.
    const revert = async (id: string) => handle(revertCommand(id, await versionOf(id)));
    const reverts = await repeat('long history: revert', {
      ours: () => latencies(revert, longId),
      'ours, fresh address': async () => latencies(revert, await freshChanged()),
    });
    const { ours: long, ...baselines } = runs;
    const range = (from: number, to: number) => `${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')}`;
    const perFigure = RUNS * perRun;
    return [
      {
        name: `ChangeAddress on a ${range(start, end)}-event address, p50`,
        unit: 'ms',
        better: 'lower',
        ours: long,
        baselines,
        note: 'goal: ≤ 1.5× the fresh address',
      },
      {
        name: `CorrectAddress on a ${range(end, end + perFigure)}-event address, p50`,
        unit: 'ms',
        better: 'lower',
        ours: corrections.ours,
        baselines: { 'ours, fresh address': corrections['ours, fresh address'] },
        note: 'goal: ≤ 1.5× the fresh address',
      },
      {
        name: `RevertChange on a ${range(end + perFigure, end + 2 * perFigure)}-event address, p50`,
        unit: 'ms',
        better: 'lower',
        ours: reverts.ours,
        baselines: { 'ours, fresh address': reverts['ours, fresh address'] },
        note: 'goal: ≤ 1.5× the fresh address',
      },
    ];
  },
};

/**
 * append_events as it is against the first append_events (the original migration's text,
 * renamed, writing to a copy of `events` without the hash column: same indexes, identity and
 * defaults, but none of the triggers), called through plain `pg` alike, in alternating blocks.
 * The baseline lacks the hash chain and every derived row (duplicate guard, stream heads, audit
 * cities), so the ratio is what all of them cost together, not the chain alone (it was labelled
 * "with the hash chain" before, which it never measured alone).
 */
const everyTrigger: Scenario = {
  name: 'every trigger',
  async run(ctx) {
    const pool = ctx.ownerPool;
    const original = await readFile('prisma/migrations/20261126030000_append_function/migration.sql', 'utf8');
    await pool.query('CREATE TABLE bench_events_before_chain (LIKE events INCLUDING ALL)');
    await pool.query('ALTER TABLE bench_events_before_chain DROP COLUMN hash');
    await pool.query(
      original
        .replace('CREATE FUNCTION "append_events"(', 'CREATE FUNCTION "append_events_before_chain"(')
        .replaceAll('FROM events e', 'FROM bench_events_before_chain e')
        .replace('INSERT INTO events (', 'INSERT INTO bench_events_before_chain (')
        .replace('RETURNING events.position', 'RETURNING bench_events_before_chain.position'),
    );
    const append = async (fn: string) => {
      const command = registerCommand();
      const payload = toNewEvents(historyOf(command.data.addressId, 1)).map((e) => ({ eventId: randomUUID(), ...e }));
      await pool.query(`SELECT outcome FROM ${fn}($1, 0, $2::jsonb, $3, 'bench', 'bench_channel')`, [
        streamOf(command),
        JSON.stringify(payload),
        command.metadata.commandId,
      ]);
    };
    const n = ctx.quick ? 200 : 1000;
    const block = 100;
    const runOnce = async (fn: string) => {
      let s = 0;
      for (let i = 0; i < n; i += block) {
        const t = process.hrtime.bigint();
        for (let j = 0; j < block; j++) await append(fn);
        s += seconds(t);
      }
      return n / s;
    };
    const { ours, ...baselines } = await repeat('every trigger', {
      ours: () => runOnce('append_events'),
      'first append_events, table without triggers': () => runOnce('append_events_before_chain'),
    });
    return [
      {
        name: 'append_events (SQL function) with every trigger on events',
        unit: 'appends/s',
        better: 'higher',
        ours,
        baselines,
        note: 'hash chain, duplicate guard, stream heads and audit cities together (a registration’s written by append_events, the rest by the trigger); no goal',
      },
    ];
  },
};

export const writeScenarios: Scenario[] = [
  commandScenario('1 writer', 1, { quick: 150, full: 1000 }),
  bareAppend,
  commandScenario('8 writers', 8, { quick: 400, full: 2000 }),
  batchAppend,
  longHistory,
  everyTrigger,
];
