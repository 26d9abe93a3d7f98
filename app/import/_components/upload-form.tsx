'use client';

import { useRouter } from 'next/navigation';
import { type FormEvent, useId, useState } from 'react';

type Outcome = { tone: 'ok' | 'error'; text: string } | null;

const MB = 1024 * 1024;

/**
 * Sends the chosen file as the body of POST /api/imports (streamed by the browser, not read into
 * the page), then re-renders the page, whose list shows the run's progress. A file over the limit
 * is refused here before it is sent; the server checks again (and checks everything else).
 */
export function UploadForm({ maxBytes }: { maxBytes: number }) {
  const router = useRouter();
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [pending, setPending] = useState(false);
  const fileId = useId();
  const sourceId = useId();
  const hintId = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0];
    const source = (form.elements.namedItem('source') as HTMLInputElement).value.trim();
    if (!file) return setOutcome({ tone: 'error', text: 'Choose a CSV file first.' });
    if (file.size > maxBytes) {
      return setOutcome({
        tone: 'error',
        text: `The file is larger than ${maxBytes / MB} MB (it is ${(file.size / MB).toFixed(1)} MB). Split it, or use npm run import.`,
      });
    }
    setPending(true);
    setOutcome(null);
    try {
      const query = new URLSearchParams({ filename: file.name, ...(source ? { source } : {}) });
      const response = await fetch(`/api/imports?${query}`, {
        method: 'POST',
        body: file,
        headers: { 'content-type': file.type || 'text/csv' },
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        const message = body?.error?.message ?? `the upload failed (HTTP ${response.status})`;
        setOutcome({ tone: 'error', text: `The file was not imported: ${message}` });
        return;
      }
      form.reset();
      setOutcome({
        tone: 'ok',
        text: `Import of ${file.name} started as source ${body.source}. Its progress is below.`,
      });
      router.refresh();
    } catch {
      setOutcome({ tone: 'error', text: 'The upload did not reach the server; check the connection and try again.' });
    } finally {
      setPending(false);
    }
  }

  return (
    <form className="form" aria-label="Upload a CSV file" onSubmit={submit}>
      <div aria-live="polite">
        {outcome ? (
          <div
            className={`notice ${outcome.tone === 'ok' ? 'notice-ok' : 'notice-error'}`}
            role={outcome.tone === 'ok' ? 'status' : 'alert'}
          >
            <p>{outcome.text}</p>
          </div>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor={fileId}>CSV file</label>
        <input
          id={fileId}
          name="file"
          type="file"
          accept=".csv,.gz,text/csv,application/gzip"
          required
          aria-describedby={hintId}
        />
        <p id={hintId} className="hint">
          UTF-8 CSV with a header row (or gzip-compressed), at most {maxBytes / MB} MB.
        </p>
      </div>
      <div className="field">
        <label htmlFor={sourceId}>
          Source name <span className="optional">(optional; default: the file's name)</span>
        </label>
        <input id={sourceId} name="source" type="text" pattern="[\w.\-]{1,100}" autoComplete="off" />
      </div>
      <div className="actions">
        <button type="submit" className="button primary" disabled={pending}>
          {pending ? 'Uploading…' : 'Upload and import'}
        </button>
      </div>
    </form>
  );
}
