import type { Metadata } from 'next';
import { RefreshWhileRunning } from '@/app/_components/refresh-while-running';
import { pageActor } from '@/lib/auth/request-actor';
import { prisma } from '@/lib/db';
import { MAX_UPLOAD_BYTES, recentImports } from '@/lib/import-jobs';
import { ImportRuns } from './_components/import-runs';
import { UploadForm } from './_components/upload-form';
import './import.css';

export const metadata: Metadata = { title: 'Import' };

/**
 * Upload a CSV of addresses (operators and admins). The run goes on in the server's background,
 * also when this page is closed; the list below shows every recent run's progress (refreshed while
 * one runs) and links its report of rejected rows (README "Importing addresses").
 */
export default async function ImportPage() {
  await pageActor('address:write', '/import');
  const runs = await recentImports(prisma(), 10);
  return (
    <main className="import-page">
      <div className="page-header">
        <div>
          <h1>Import addresses</h1>
          <p className="lead">
            Every row is checked like a registration on the form and registered with the same rules; rows that cannot be
            imported are listed with their reasons. Uploading the same file again registers nothing twice.
          </p>
        </div>
      </div>
      <section className="card" aria-labelledby="upload-heading">
        <h2 id="upload-heading">Upload</h2>
        <UploadForm maxBytes={MAX_UPLOAD_BYTES} />
      </section>
      <section aria-labelledby="runs-heading">
        <h2 id="runs-heading">Recent imports</h2>
        <ImportRuns runs={runs} />
      </section>
      <RefreshWhileRunning running={runs.some((r) => r.status === 'running')} />
    </main>
  );
}
