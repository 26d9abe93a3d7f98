import type { Command } from '../messages';
import type { AddressFieldChanges, AddressFieldsInput } from './fields';

export interface RegisterAddressData {
  addressId: string;
  fields: AddressFieldsInput;
}

export interface ChangeAddressData {
  addressId: string;
  /** Absent key = unchanged; `null` clears an optional field. */
  changes: AddressFieldChanges;
  reason?: string;
}

export interface CorrectAddressData {
  addressId: string;
  /** Stream version (1..current) of the event whose recording was wrong. */
  corrects: number;
  /** The correct values; absent key = unchanged; `null` clears an optional field. */
  fields: AddressFieldChanges;
  reason: string;
}

export interface RevertChangeData {
  addressId: string;
  /** Stream version of the AddressChanged / AddressCorrected event to undo. */
  version: number;
  reason: string;
}

export interface ArchiveAddressData {
  addressId: string;
  reason: string;
}

export interface RestoreAddressData {
  addressId: string;
  reason?: string;
}

export type RegisterAddress = Command<'RegisterAddress', RegisterAddressData>;
export type ChangeAddress = Command<'ChangeAddress', ChangeAddressData>;
export type CorrectAddress = Command<'CorrectAddress', CorrectAddressData>;
export type RevertChange = Command<'RevertChange', RevertChangeData>;
export type ArchiveAddress = Command<'ArchiveAddress', ArchiveAddressData>;
export type RestoreAddress = Command<'RestoreAddress', RestoreAddressData>;

export type AddressCommand =
  | RegisterAddress
  | ChangeAddress
  | CorrectAddress
  | RevertChange
  | ArchiveAddress
  | RestoreAddress;
export type AddressCommandType = AddressCommand['type'];

export const ADDRESS_COMMAND_TYPES = [
  'RegisterAddress',
  'ChangeAddress',
  'CorrectAddress',
  'RevertChange',
  'ArchiveAddress',
  'RestoreAddress',
] as const satisfies readonly AddressCommandType[];

const COMMAND_TYPE_SET: ReadonlySet<string> = new Set(ADDRESS_COMMAND_TYPES);

export function isAddressCommandType(type: string): type is AddressCommandType {
  return COMMAND_TYPE_SET.has(type);
}
