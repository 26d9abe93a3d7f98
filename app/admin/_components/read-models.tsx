import { RefreshWhileRunning } from '@/app/_components/refresh-while-running';
import { addressIdFromStream } from '@/domain/address';
import { projectionStatus, readSide } from '@/projections/read-side';
import type { RebuildProgress } from '@/projections/rebuild';
import { type RebuildJob, type RebuildJobStatus, rebuildStatus } from '@/projections/rebuild-job';
import type { ProjectionStatus } from '@/projections/status';
import { RebuildForm } from './job-controls';
import { ParkedActions } from './parked-actions';

/*
 * The admin page's "Read models" section (server component): projection status from the
 * checkpoints, and the rebuild started from this page with its progress.
 */

const when = (iso: string | null) => (iso ? <time dateTime={iso}>{iso.replace('T', ' ').slice(0, 19)} UTC</time> : '—');

const number = (n: number | string) => Number(n).toLocaleString('en-US');

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function load(): Promise<{
  status: Awaited<ReturnType<typeof projectionStatus>> | null;
  statusError: string | null;
  rebuild: RebuildJobStatus;
}> {
  try {
    const side = readSide();
    const [status, rebuild] = await Promise.all([projectionStatus(side), rebuildStatus(side.pool)]);
    return { status, statusError: null, rebuild };
  } catch (error) {
    return { status: null, statusError: errorText(error), rebuild: await rebuildStatus() };
  }
}

function Completeness({ p }: { p: ProjectionStatus }) {
  if (p.complete === null) return <span className="muted">not checked yet</span>;
  if (p.complete) {
    return (
      <>
        <span className="badge badge-active">complete</span>
        <br />
        <span className="muted">checked {when(p.completenessCheckedAt)}</span>
      </>
    );
  }
  const r = p.incompleteRange;
  return (
    <>
      <strong className="field-error">incomplete</strong>
      {r ? (
        <>
          <br />
          <span>
            positions {number(r.from)}–{number(r.to)}: {number(r.expectedEvents)} events in the store,{' '}
            {number(r.projectedEvents)} applied. Rebuild to repair.
          </span>
        </>
      ) : null}
    </>
  );
}

function ParkedTable({ parked }: { parked: ProjectionStatus['parked'] }) {
  return (
    <table className="admin-table stack-table">
      <thead>
        <tr>
          <th scope="col">Address</th>
          <th scope="col">Projection</th>
          <th scope="col">Event</th>
          <th scope="col">Error</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {parked.map((p) => {
          const id = addressIdFromStream(p.streamId);
          return (
            <tr key={`${p.projection} ${p.streamId}`} data-parked={id}>
              <td data-label="Address">
                <a href={`/addresses/${id}/history`}>
                  <code>{id}</code>
                </a>
              </td>
              <td data-label="Projection">
                <code>{p.projection}</code>
              </td>
              <td data-label="Event">
                {p.type} v{p.streamVersion}
                <br />
                <span className="muted">
                  position {number(p.position)}, event <code>{p.eventId}</code>
                </span>
              </td>
              <td data-label="Error">
                {p.error}
                <br />
                <span className="muted">
                  {p.attempts} {p.attempts === 1 ? 'attempt' : 'attempts'}, parked {when(p.parkedAt)}
                  {p.requested ? `; ${p.requested} requested` : ''}
                </span>
              </td>
              <td data-label="Actions">
                <ParkedActions addressId={id} label={`${p.type} of ${id} in ${p.projection}`} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function ProjectionRow({ p }: { p: ProjectionStatus }) {
  return (
    <tr data-projection={p.name}>
      <td data-label="Projection">
        <code>{p.name}</code>
      </td>
      <td data-label="Checkpoint">
        position {number(p.position)}
        <br />
        <span className="muted">
          {number(p.eventsProcessed)} events applied, updated {when(p.updatedAt)}
        </span>
      </td>
      <td data-label="Lag">
        {number(p.lagEvents)} events
        <br />
        <span className="muted">oldest unapplied: {p.lagSeconds.toFixed(1)} s old</span>
      </td>
      <td data-testid="completeness">
        <Completeness p={p} />
      </td>
      <td data-label="Worker">
        {p.alive ? (
          <span className="badge badge-active">alive</span>
        ) : (
          <span className="badge badge-archived">no worker</span>
        )}
        {p.workerId ? (
          <>
            <br />
            <span className="muted">{p.workerId}</span>
          </>
        ) : null}
      </td>
      <td data-label="Errors">
        {p.failing ? (
          <strong className="field-error">
            failing ({p.errorCount} {p.errorCount === 1 ? 'attempt' : 'attempts'})
          </strong>
        ) : (
          'ok'
        )}
        {p.lastError ? (
          <>
            <br />
            <span className="muted">
              {p.failing ? '' : 'last: '}
              {p.lastError} ({when(p.lastErrorAt)})
            </span>
          </>
        ) : null}
      </td>
    </tr>
  );
}

const PHASES: Record<RebuildProgress['phase'], string> = {
  replay: 'Replaying events into fresh copies',
  'catch-up': 'Catching up with the live projector',
  verify: 'Verifying against the event store',
  swap: 'Swapping the copy in',
  done: 'Done',
};

function phaseText(progress: RebuildProgress | null): string {
  if (!progress) return 'Starting';
  return progress.projection ? `${PHASES[progress.phase]} (${progress.projection})` : PHASES[progress.phase];
}

function JobDetails({ job }: { job: RebuildJob }) {
  const p = job.progress;
  return (
    <dl className="facts">
      <div>
        <dt>Started</dt>
        <dd>
          {when(job.startedAt)} by {job.startedBy.name}
        </dd>
      </div>
      {job.state !== 'running' ? (
        <div>
          <dt>Finished</dt>
          <dd>{when(job.finishedAt)}</dd>
        </div>
      ) : null}
      <div>
        <dt>Phase</dt>
        <dd data-testid="rebuild-phase">{job.state === 'failed' ? `Failed during: ${phaseText(p)}` : phaseText(p)}</dd>
      </div>
      <div>
        <dt>Events</dt>
        <dd>
          {p ? (
            <>
              <progress value={p.processed} max={Math.max(1, p.total)} aria-label="Events replayed" />{' '}
              {number(p.processed)} / {number(p.total)}
            </>
          ) : (
            '—'
          )}
        </dd>
      </div>
    </dl>
  );
}

function RebuildState({ rebuild }: { rebuild: RebuildJobStatus }) {
  const { job, runningElsewhere } = rebuild;
  return (
    <>
      {runningElsewhere ? (
        <div className="notice notice-warn" role="status">
          <p>A rebuild started on another app instance is running; its progress is shown there.</p>
        </div>
      ) : null}
      {job?.state === 'running' ? (
        <div className="notice notice-warn" role="status">
          <p>
            <strong>Rebuild running.</strong> The live read models keep serving until the verified copies are swapped
            in.
          </p>
        </div>
      ) : null}
      {job?.state === 'done' ? (
        <div className="notice notice-ok" role="status">
          <p>
            <strong>Last rebuild finished.</strong> Every copy matched the event store and was swapped in.
          </p>
        </div>
      ) : null}
      {job?.state === 'failed' ? (
        <div className="notice notice-error" role="alert">
          <p>
            <strong>Last rebuild failed:</strong> {job.error}
          </p>
          <p>The live read models were left as they were.</p>
        </div>
      ) : null}
      {job ? <JobDetails job={job} /> : null}
      {job?.state === 'done' && job.reports.length > 0 ? (
        <table className="admin-table stack-table">
          <thead>
            <tr>
              <th scope="col">Projection</th>
              <th scope="col">Events</th>
              <th scope="col">Documents</th>
              <th scope="col">Checkpoint</th>
              <th scope="col">Took</th>
            </tr>
          </thead>
          <tbody>
            {job.reports.map((r) => (
              <tr key={r.projection}>
                <td data-label="Projection">
                  <code>{r.projection}</code>
                </td>
                <td data-label="Events">{number(r.events)}</td>
                <td data-label="Documents">{number(r.documents)}</td>
                <td data-label="Checkpoint">
                  <code>{r.cursor}</code>
                </td>
                <td data-label="Took">{(r.ms / 1000).toFixed(1)} s</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

export async function ReadModelsSection() {
  const { status, statusError, rebuild } = await load();
  const running = rebuild.job?.state === 'running' || rebuild.runningElsewhere;
  return (
    <section className="card" aria-labelledby="read-models-heading">
      <h2 id="read-models-heading">Read models</h2>
      <p className="hint">
        Built from the event store by the projector. Lag counts committed events not applied yet and the age of the
        oldest; “complete” compares what each projection applied with the event store, range by range; “alive” means a
        worker holds the projection right now.
      </p>
      {status ? (
        <>
          <p className="meta">
            Head position {number(status.head)} · search backend <code>{status.search}</code>
          </p>
          {status.projections.length === 0 ? (
            <p className="empty">No projection has run yet.</p>
          ) : (
            <table className="admin-table stack-table">
              <thead>
                <tr>
                  <th scope="col">Projection</th>
                  <th scope="col">Checkpoint</th>
                  <th scope="col">Lag</th>
                  <th scope="col">Complete</th>
                  <th scope="col">Worker</th>
                  <th scope="col">Errors</th>
                </tr>
              </thead>
              <tbody>
                {status.projections.map((p) => (
                  <ProjectionRow key={p.name} p={p} />
                ))}
              </tbody>
            </table>
          )}
          <h3>Parked addresses</h3>
          <p className="hint">
            An event a projection could not apply parks its address: that address's later events wait, every other
            address keeps projecting. Retry after a fix, or skip the event with a reason (both are logged).
          </p>
          {status.projections.some((p) => p.parked.length > 0) ? (
            <ParkedTable parked={status.projections.flatMap((p) => p.parked)} />
          ) : (
            <p className="empty">None.</p>
          )}
        </>
      ) : (
        <div className="notice notice-error" role="alert">
          <p>Projection status is unavailable: {statusError}</p>
        </div>
      )}

      <h3>Rebuild</h3>
      <p className="hint">
        Replays every event into fresh copies while the live read models keep serving, verifies them against the event
        store and swaps them in. Takes minutes on a large store; one rebuild runs at a time.
      </p>
      <RebuildState rebuild={rebuild} />
      <RebuildForm running={running} />
      <RefreshWhileRunning running={running} />
    </section>
  );
}
