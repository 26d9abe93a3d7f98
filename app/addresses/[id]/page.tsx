import { randomUUID } from 'node:crypto';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { FormMessage } from '@/app/_components/form-fields';
import { Main } from '@/app/_components/main';
import { pageActor } from '@/lib/auth/request-actor';
import { parkedAddressIds } from '@/projections/parking';
import { readSide } from '@/projections/read-side';
import { ChangeForm, CorrectForm, LifecycleForms, RevertForm, type VersionOption } from '../_components/address-forms';
import { AddressVersionSeen } from '../_components/address-version-seen';
import { FieldTable, FormattedAddress, StatusBadge } from '../_components/address-view';
import { addressTitle, canWrite, countryOptions, loadAddress } from '../_lib/address.server';
import { EVENT_LABELS, formatTimestamp } from '../_lib/labels';
import { buildTimeline, revertibleVersions, versionSummary } from '../_lib/timeline';

interface Props {
  params: Promise<{ id: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const record = await loadAddress((await params).id);
  return { title: addressTitle(record?.state.fields) };
}

/**
 * One address, read straight from its event stream (exact, never behind). Edit forms carry the
 * version shown here; the server refuses them if someone else has saved in between.
 */
export default async function AddressPage({ params, searchParams }: Props) {
  const { id } = await params;
  const actor = await pageActor('address:read', `/addresses/${id}`);
  const record = await loadAddress(id);
  if (!record?.state.fields) notFound();
  const { addressId, state } = record;
  // Parked by a projection (projections/README.md "Parked addresses"): search and lists lag behind this page.
  const parked = await parkedAddressIds(readSide().pool, [addressId]).catch(() => new Set<string>());
  const fields = state.fields!;
  const timeline = buildTimeline(record.events);
  const first = timeline[0]!;
  const last = timeline.at(-1)!;
  const writable = canWrite(actor);
  const justRegistered = (await searchParams).registered === '1' && state.version === 1;
  const countries = writable ? countryOptions() : [];
  const now = new Date();
  // Each version with the values it recorded: a correction starts from those.
  const allVersions: VersionOption[] = timeline.map((e) => ({
    version: e.version,
    label: versionSummary(e, now),
    fields: { ...e.fieldsAfter },
  }));
  const revertible: VersionOption[] = revertibleVersions(timeline).map((e) => ({
    version: e.version,
    label: versionSummary(e, now),
  }));
  const formFields: Record<string, string | undefined> = { ...fields };

  return (
    <Main>
      <AddressVersionSeen id={addressId} version={state.version} />
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link href="/addresses">Addresses</Link> <span aria-hidden="true">›</span> {fields.line1}
      </nav>
      <header className="page-header">
        <div>
          <h1>{addressTitle(fields)}</h1>
          <p className="meta">
            <StatusBadge status={state.status} /> <span className="version-pill">Version {state.version}</span>{' '}
            <span className="muted">id {addressId}</span>
          </p>
        </div>
        <div className="header-links">
          <Link className="button" href={`/addresses/${addressId}/history`}>
            History ({timeline.length} {timeline.length === 1 ? 'event' : 'events'})
          </Link>
        </div>
      </header>
      {parked.has(addressId) ? (
        <p className="notice notice-warn" role="status">
          Not up to date in search and lists: one of this address's events could not be applied there yet, so they may
          show an older version. This page reads the events themselves and is current.
        </p>
      ) : null}

      {justRegistered ? <FormMessage result={{ status: 'ok', message: 'Address registered as version 1.' }} /> : null}

      <div className="detail-grid">
        <section className="card" aria-labelledby="current-heading">
          <h2 id="current-heading">Current address</h2>
          <FormattedAddress fields={fields} />
          <FieldTable fields={fields} />
          <dl className="facts">
            <div>
              <dt>Registered</dt>
              <dd>
                {formatTimestamp(first.recordedAt)} by {first.actor.name} ({first.actor.role})
              </dd>
            </div>
            <div>
              <dt>Last event</dt>
              <dd>
                {EVENT_LABELS[last.type]} {formatTimestamp(last.recordedAt)} by {last.actor.name} ({last.actor.role})
                {last.reason ? <> — “{last.reason}”</> : null}
              </dd>
            </div>
          </dl>
        </section>

        {writable ? (
          <section className="edit-panels" aria-labelledby="edit-heading">
            <h2 id="edit-heading">Edit</h2>
            {state.status === 'active' ? (
              <details className="panel" open>
                <summary>Change the address</summary>
                <p className="hint">The real world changed: a move, a renamed street, a new postal code.</p>
                <ChangeForm
                  addressId={addressId}
                  version={state.version}
                  token={randomUUID()}
                  fields={formFields}
                  countries={countries}
                />
              </details>
            ) : (
              <p className="notice notice-warn">
                This address is archived. Restore it to change it; recording errors can still be corrected.
              </p>
            )}
            <details className="panel">
              <summary>Correct a recording error</summary>
              <p className="hint">What was recorded was wrong. The correction names the version it fixes.</p>
              <CorrectForm
                addressId={addressId}
                version={state.version}
                token={randomUUID()}
                countries={countries}
                versions={allVersions}
              />
            </details>
            {revertible.length > 0 ? (
              <details className="panel">
                <summary>Revert a change</summary>
                <p className="hint">Undo one earlier change; it is recorded as a correction, nothing is deleted.</p>
                <RevertForm addressId={addressId} version={state.version} token={randomUUID()} versions={revertible} />
              </details>
            ) : null}
            <LifecycleForms
              archived={state.status !== 'active'}
              addressId={addressId}
              version={state.version}
              token={randomUUID()}
            />
          </section>
        ) : (
          <section className="card muted-card" aria-label="Access">
            <p>
              You have read-only access ({actor.role}). See the{' '}
              <Link href={`/addresses/${addressId}/history`}>history</Link> for every change with who made it and why.
            </p>
          </section>
        )}
      </div>
    </Main>
  );
}
