import type { Event } from '../messages';
import type { AddressFieldChanges, AddressFields } from './fields';

export type AddressRegisteredData = { addressId: string } & AddressFields;

export interface AddressChangedData {
  addressId: string;
  /** New values of the changed fields only; `null` = optional field cleared. */
  changes: AddressFieldChanges;
}

export interface AddressCorrectedData {
  addressId: string;
  /** The earlier version (stream version of the event) whose recording this corrects. */
  corrects: number;
  /** Corrected values of the fields that differ; `null` = optional field cleared. */
  fields: AddressFieldChanges;
  reason: string;
  /** Set when the correction is a RevertChange: the version whose effect it undoes. */
  revertOf?: number;
}

export interface AddressArchivedData {
  addressId: string;
  reason: string;
}

export interface AddressRestoredData {
  addressId: string;
  reason?: string;
}

export type AddressRegistered = Event<'AddressRegistered', AddressRegisteredData>;
export type AddressChanged = Event<'AddressChanged', AddressChangedData>;
export type AddressCorrected = Event<'AddressCorrected', AddressCorrectedData>;
export type AddressArchived = Event<'AddressArchived', AddressArchivedData>;
export type AddressRestored = Event<'AddressRestored', AddressRestoredData>;

export type AddressEvent = AddressRegistered | AddressChanged | AddressCorrected | AddressArchived | AddressRestored;
export type AddressEventType = AddressEvent['type'];

export interface AddressEventDataMap {
  AddressRegistered: AddressRegisteredData;
  AddressChanged: AddressChangedData;
  AddressCorrected: AddressCorrectedData;
  AddressArchived: AddressArchivedData;
  AddressRestored: AddressRestoredData;
}

export const ADDRESS_EVENT_TYPES = [
  'AddressRegistered',
  'AddressChanged',
  'AddressCorrected',
  'AddressArchived',
  'AddressRestored',
] as const satisfies readonly AddressEventType[];

/** The schema version the writer stores with each new event; older stored shapes go through `upcast`. */
export const CURRENT_SCHEMA_VERSIONS: Record<AddressEventType, number> = {
  AddressRegistered: 2,
  AddressChanged: 1,
  AddressCorrected: 1,
  AddressArchived: 1,
  AddressRestored: 1,
};

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(ADDRESS_EVENT_TYPES);

export function isAddressEventType(type: string): type is AddressEventType {
  return EVENT_TYPE_SET.has(type);
}
