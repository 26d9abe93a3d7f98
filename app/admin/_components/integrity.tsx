import { RefreshWhileRunning } from '@/app/_components/refresh-while-running';
import { keyFingerprint } from '@/lib/integrity/chain';
import { type TrustedKeys, trustedSealKeys } from '@/lib/integrity/seal-key';
import { latestSeal, type SealSummary } from '@/lib/integrity/sealer';
import { type LastVerification, lastVerification } from '@/lib/integrity/verify';
import { type VerifyJobStatus, verificationStatus } from '@/lib/integrity/verify-job';
import { readSide } from '@/projections/read-side';
import { VerifyForm } from './job-controls';

/*
 * The admin page's "Integrity" section (server component): the badge of the last verification
 * (command line or "Verify now"), the newest seal and the key that signs seals, and "Verify now".
 */

const when = (iso: string) => <time dateTime={iso}>{iso.replace('T', ' ').slice(0, 19)} UTC</time>;
const number = (n: number | string | undefined) => Number(n ?? 0).toLocaleString('en-US');
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function load() {
  const { pool } = readSide();
  let trusted: TrustedKeys | null = null;
  let keyError: string | null = null;
  try {
    trusted = trustedSealKeys();
  } catch (error) {
    keyError = errorText(error);
  }
  try {
    const [last, seal, status] = await Promise.all([
      lastVerification(pool),
      latestSeal(pool),
      verificationStatus(pool),
    ]);
    return { last, seal, status, trusted, keyError, error: null };
  } catch (error) {
    return { last: null, seal: null, status: await verificationStatus(), trusted, keyError, error: errorText(error) };
  }
}

function Badge({ last, running }: { last: LastVerification | null; running: boolean }) {
  if (running) return <span className="badge">verifying…</span>;
  if (!last) return <span className="badge">not verified yet</span>;
  if (last.result === 'intact') return <span className="badge badge-active">intact</span>;
  return <span className="badge badge-archived">{last.result === 'broken' ? 'broken' : 'could not verify'}</span>;
}

function LastResult({ last }: { last: LastVerification }) {
  const s = last.summary;
  const [first, ...rest] = last.problems;
  return (
    <>
      <p className="meta">
        Last verified {when(last.finishedAt)} {last.source === 'cli' ? 'from the command line' : 'from this page'}:{' '}
        {number(s.events)} events in {number(s.streams)} streams, {number(s.seals)} seals
        {s.lastSeal ? ` up to position ${number(s.lastSeal.headPosition)}` : ''}; {number(s.unsealedEvents)} events
        after the last seal were checked by their stream chains only.
      </p>
      {last.result === 'broken' && first ? (
        <div className="notice notice-error" role="alert">
          <p>
            <strong>
              Broken at position {first.position ?? '?'}: {first.kind}.
            </strong>{' '}
            {first.message}.
          </p>
          {rest.length > 0 ? (
            <ul>
              {rest.slice(0, 9).map((p) => (
                <li key={`${p.kind}-${p.position}-${p.sealSeq ?? ''}`}>
                  position {p.position ?? '?'}: {p.kind} — {p.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {last.result === 'failed' ? (
        <div className="notice notice-error" role="alert">
          <p>
            <strong>The verification could not finish:</strong> {first?.message}
          </p>
        </div>
      ) : null}
      {last.result === 'intact' && !s.trustedKey ? (
        <div className="notice notice-warn" role="status">
          <p>
            No trusted sealing key was configured for that run: signatures were checked against the key stored with each
            seal, which someone able to rewrite the database could replace.
          </p>
        </div>
      ) : null}
    </>
  );
}

function SealFacts({
  seal,
  trusted,
  keyError,
}: {
  seal: SealSummary | null;
  trusted: TrustedKeys | null;
  keyError: string | null;
}) {
  const foreign = seal && trusted && !trusted.keys.includes(seal.publicKey);
  return (
    <dl className="facts">
      <div>
        <dt>Newest seal</dt>
        <dd data-testid="latest-seal">
          {seal ? (
            <>
              #{seal.seq}: {number(seal.eventCount)} events up to position {number(seal.headPosition)},{' '}
              {when(seal.sealedAt)}
            </>
          ) : (
            'none yet (the projector seals new events every few seconds)'
          )}
        </dd>
      </div>
      <div>
        <dt>Sealing key</dt>
        <dd>
          {seal ? (
            <>
              <code data-testid="seal-public-key">{seal.publicKey}</code>
              <br />
              <span className="muted">fingerprint {keyFingerprint(seal.publicKey)}</span>
            </>
          ) : trusted ? (
            <code>{trusted.keys[0]}</code>
          ) : (
            '—'
          )}
          {foreign ? (
            <>
              <br />
              <strong className="field-error">This seal is not signed by the key this server trusts.</strong>
            </>
          ) : null}
          {keyError ? (
            <>
              <br />
              <strong className="field-error">The sealing key cannot be read: {keyError}</strong>
            </>
          ) : null}
        </dd>
      </div>
    </dl>
  );
}

function RunningJob({ status }: { status: VerifyJobStatus }) {
  const { job, runningElsewhere } = status;
  if (runningElsewhere) {
    return (
      <div className="notice notice-warn" role="status">
        <p>A verification started on another app instance is running.</p>
      </div>
    );
  }
  if (job?.state !== 'running') return null;
  const p = job.progress;
  return (
    <div className="notice notice-warn" role="status">
      <p>
        <strong>Verifying</strong> (started {when(job.startedAt)} by {job.startedBy.name})
        {p ? (
          <>
            : {p.phase} <progress value={p.processed} max={Math.max(1, p.total)} aria-label="Rows verified" />{' '}
            {number(p.processed)} / {number(p.total)}
          </>
        ) : null}
      </p>
    </div>
  );
}

export async function IntegritySection() {
  const { last, seal, status, trusted, keyError, error } = await load();
  const running = status.job?.state === 'running' || status.runningElsewhere;
  return (
    <section className="card" aria-labelledby="integrity-heading">
      <h2 id="integrity-heading">
        Integrity <Badge last={last} running={running} />
      </h2>
      <p className="hint">
        Every event is hash-chained to the one before it in its address's history, and signed seals fix the global
        order. Verifying checks all of it and names the first position that no longer matches (the command line:{' '}
        <code>npm run verify</code>).
      </p>
      {error ? (
        <div className="notice notice-error" role="alert">
          <p>Integrity status is unavailable: {error}</p>
        </div>
      ) : null}
      {last ? <LastResult last={last} /> : null}
      <SealFacts seal={seal} trusted={trusted} keyError={keyError} />
      <RunningJob status={status} />
      <VerifyForm running={running} />
      <RefreshWhileRunning running={running} />
    </section>
  );
}
