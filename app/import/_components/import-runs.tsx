import type { ImportRun } from '@/lib/import-jobs';

const STATUS_LABELS: Record<ImportRun['status'], string> = {
  running: 'Running',
  done: 'Done',
  failed: 'Failed',
  interrupted: 'Interrupted',
};

const when = (iso: string) => <time dateTime={iso}>{iso.replace('T', ' ').slice(0, 19)} UTC</time>;

function rate(run: ImportRun): string {
  const end = run.finishedAt ? Date.parse(run.finishedAt) : Date.parse(run.updatedAt);
  const seconds = Math.max(0.001, (end - Date.parse(run.startedAt)) / 1000);
  return `${Math.round(run.summary.rows / seconds).toLocaleString('en-US')} rows/s`;
}

/** The newest uploads with their progress, counters and report; one card per run. */
export function ImportRuns({ runs }: { runs: readonly ImportRun[] }) {
  if (runs.length === 0) return <p>No uploads yet.</p>;
  return (
    <ol className="import-runs">
      {runs.map((run) => {
        const s = run.summary;
        const done = run.status !== 'running';
        return (
          <li key={run.id} className="card import-run" aria-label={`Import of ${run.fileName}`}>
            <h3>
              {run.fileName}{' '}
              <span className={`import-status import-status-${run.status}`}>{STATUS_LABELS[run.status]}</span>
            </h3>
            <p>
              Source <code>{run.source}</code>, started {when(run.startedAt)} by {run.startedBy.name}.
            </p>
            <p>
              <progress
                value={done && run.status === 'done' ? run.fileBytes : run.bytesRead}
                max={Math.max(1, run.fileBytes)}
                aria-label={`Progress of ${run.fileName}`}
              />{' '}
              <span className="import-rows" aria-live={done ? undefined : 'polite'}>
                {s.rows.toLocaleString('en-US')} rows read ({rate(run)})
              </span>
            </p>
            <dl className="field-table import-counters">
              <div>
                <dt>Registered</dt>
                <dd data-counter="registered">{s.registered}</dd>
              </div>
              <div>
                <dt>Already there</dt>
                <dd data-counter="unchanged">{s.unchanged}</dd>
              </div>
              <div>
                <dt>Duplicates</dt>
                <dd data-counter="duplicates">{s.duplicates}</dd>
              </div>
              <div>
                <dt>Rejected</dt>
                <dd data-counter="rejected">{s.rejected}</dd>
              </div>
            </dl>
            {run.error ? (
              <p className="notice notice-error" role="alert">
                {run.error}
              </p>
            ) : null}
            {s.rejected > 0 ? (
              <p>
                <a href={`/api/imports/${run.id}/report`} download>
                  Download the rejected rows of {run.fileName} (CSV)
                </a>
              </p>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}
