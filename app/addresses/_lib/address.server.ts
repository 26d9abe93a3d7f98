import 'server-only';
import countries from 'i18n-iso-countries';
import en from 'i18n-iso-countries/langs/en.json';
import { cache } from 'react';
import { type AddressEvent, type AddressState, addressStreamId, isAddressId } from '@/domain/address';
import type { Actor, RecordedEvent } from '@/domain/messages';
import { actorCan } from '@/lib/auth/permissions';
import { ledger } from '@/lib/ledger';
import { buildTimeline, type TimelineEntry } from './timeline';

countries.registerLocale(en);

export type AddressRecord = {
  addressId: string;
  events: RecordedEvent<AddressEvent>[];
  state: AddressState;
};

/**
 * One address straight from the event store (exact, no projection lag): its events in stream
 * order and the state they fold to. `null` when the id names no address. Read once per request
 * (React's `cache`): the page's title (generateMetadata) and the page itself share the read.
 */
export const loadAddress = cache(async (id: string): Promise<AddressRecord | null> => {
  if (!isAddressId(id)) return null;
  const addressId = id.toLowerCase();
  const { events, state } = await ledger().loadAddress(addressId);
  if (events.length === 0) return null;
  return { addressId, events, state };
});

/** Reads at most this many events of one stream for a timeline (README "Long histories"). */
const MAX_TIMELINE_EVENTS = 1_000_000;

export type TimelineRecord = { addressId: string; events: RecordedEvent<AddressEvent>[]; timeline: TimelineEntry[] };

/**
 * One address's timeline straight from the event store, for the history and compare pages: one
 * linear fold that keeps every version (the current state alone, `ledger().loadAddress`, does
 * not). Read once per request, like `loadAddress`.
 */
export const loadTimeline = cache(async (id: string): Promise<TimelineRecord | null> => {
  if (!isAddressId(id)) return null;
  const addressId = id.toLowerCase();
  const events = (await ledger().store.readStream(addressStreamId(addressId), {
    limit: MAX_TIMELINE_EVENTS,
  })) as RecordedEvent<AddressEvent>[];
  if (events.length === 0) return null;
  return { addressId, events, timeline: buildTimeline(events) };
});

/** How a page title names an address: "12 Main Street, Portland" (its heading says the same). */
export function addressTitle(fields: { line1: string; city: string } | null | undefined): string {
  return fields ? `${fields.line1}, ${fields.city}` : 'Address not found';
}

/** Whether the actor may issue commands (edit controls are rendered only then; actions check again). */
export function canWrite(actor: Actor): boolean {
  return actorCan(actor, 'address:write');
}

export interface CountryOption {
  code: string;
  name: string;
}

let countryList: CountryOption[] | undefined;

/** ISO 3166-1 alpha-2 countries with English names, sorted by name, for the country picker. */
export function countryOptions(): CountryOption[] {
  countryList ??= Object.entries(countries.getNames('en', { select: 'official' }))
    .map(([code, name]) => ({ code, name }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en'));
  return countryList;
}

export function countryName(code: string): string {
  return countries.getName(code, 'en', { select: 'official' }) ?? code;
}
