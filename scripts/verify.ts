/**
 * `npm run verify [-- --seal]`: checks that the event log is what was written and sealed (README
 * "Tamper evidence"): every stream's hash chain, every seal's signature, and the sealed global
 * order. Progress goes to stderr; the result to stdout, and it is recorded for /admin.
 *
 *   exit 0  intact (with a summary)
 *   exit 1  broken: the first broken position and why (changed, deleted, inserted, reordered,
 *           bad-signature, seal-mismatch), then the other problems found
 *   exit 2  could not verify (bad usage, database unreachable …)
 *
 * `--seal` first seals whatever is not sealed yet (with the signing key, created if missing, as
 * the projector does), e.g. for a database no projector has run on.
 * Database: DATABASE_URL, else the embedded PostgreSQL of `npm start` (running or not).
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import pino from 'pino';
import { openLocalDatabase } from '@/lib/embedded-postgres';
import { keyFingerprint } from '@/lib/integrity/chain';
import { loadSealKey, trustedSealKeys } from '@/lib/integrity/seal-key';
import { sealAll } from '@/lib/integrity/sealer';
import { recordVerification, type VerifyProgress, verifyLedger } from '@/lib/integrity/verify';
import { logger } from '@/lib/logger';
import { migrate } from '@/lib/migrate';
import { createPgPool } from '@/projections/pg';

// Standard output carries only the result; logs go to standard error.
(logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = pino.destination(2);
logger.level = process.env.LOG_LEVEL ?? 'warn';

const say = (line: string) => process.stdout.write(`${line}\n`);
const number = (n: number | string) => Number(n).toLocaleString('en-US');

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { seal: { type: 'boolean', default: false } }, strict: true });
  const database = await openLocalDatabase();
  const pool = createPgPool(database.url, { max: 2, applicationName: 'verify' });
  const startedAt = new Date();
  try {
    await migrate(database.migrationUrl);
    if (values.seal) {
      const key = loadSealKey({ create: true })!;
      const written = await sealAll(pool, key);
      const added = written.reduce((n, s) => n + s.added, 0);
      process.stderr.write(
        `sealed ${number(added)} events in ${written.length} seals (key ${keyFingerprint(key.publicKey)})\n`,
      );
    }
    const trusted = trustedSealKeys();
    const bar = new cliProgress.SingleBar(
      {
        format: ' verify {phase} |{bar}| {percentage}% | {value}/{total} rows | ETA {eta_formatted}',
        stream: process.stderr,
        noTTYOutput: true,
        notTTYSchedule: 5_000,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let barStarted = false;
    const onProgress = (p: VerifyProgress) => {
      if (!barStarted) bar.start(Math.max(1, p.total), p.processed, { phase: p.phase });
      barStarted = true;
      bar.update(p.processed, { phase: p.phase });
    };
    let report: Awaited<ReturnType<typeof verifyLedger>>;
    try {
      report = await verifyLedger(pool, { trusted, onProgress });
    } finally {
      if (barStarted) bar.stop();
    }
    await recordVerification(pool, { source: 'cli', startedBy: null, startedAt, report });

    const s = report.summary;
    const sealed = s.lastSeal
      ? `${number(s.seals)} seals up to position ${s.lastSeal.headPosition} (last ${s.lastSeal.sealedAt})`
      : 'no seals yet';
    say(
      `${number(s.events)} events in ${number(s.streams)} streams; ${sealed}; ${number(s.unsealedEvents)} events after the last seal (checked by their stream chains only)`,
    );
    if (!trusted) {
      say(
        'warning: no trusted sealing key (SEAL_PUBLIC_KEY, SEAL_PRIVATE_KEY or the key file): signatures were checked against the keys stored with the seals only',
      );
    }
    if (report.ok) {
      say('verify: intact');
      return 0;
    }
    const [first, ...rest] = report.problems;
    say(`verify: BROKEN at position ${first!.position ?? '?'}: ${first!.kind} — ${first!.message}`);
    for (const p of rest) say(`  also at position ${p.position ?? '?'}: ${p.kind} — ${p.message}`);
    return 1;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await recordVerification(pool, { source: 'cli', startedBy: null, startedAt, error: message }).catch(() => {});
    throw error;
  } finally {
    await pool.end().catch(() => {});
    await database.close();
  }
}

// An explicit exit: open pools and timers must not keep a finished command alive.
main().then(
  (code) => process.exit(code),
  (error) => {
    logger.fatal(
      { err: error instanceof Error ? { message: error.message, code: (error as { code?: string }).code } : error },
      'verify failed',
    );
    process.stderr.write(`verify failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
