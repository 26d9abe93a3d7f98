export const ADDRESS_STREAM_PREFIX = 'address-';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Address ids are UUIDs; anything else cannot name an address. */
export function isAddressId(id: string): boolean {
  return UUID.test(id);
}

/** `address-<uuid>`. The id is expected to be a UUID; only emptiness is rejected here. */
export function addressStreamId(addressId: string): string {
  if (addressId.length === 0) throw new Error('addressStreamId: addressId must not be empty');
  return `${ADDRESS_STREAM_PREFIX}${addressId}`;
}

export function isAddressStreamId(streamId: string): boolean {
  return streamId.startsWith(ADDRESS_STREAM_PREFIX) && streamId.length > ADDRESS_STREAM_PREFIX.length;
}

/** The address id of an `address-<uuid>` stream; throws for any other stream id. */
export function addressIdFromStream(streamId: string): string {
  if (!isAddressStreamId(streamId)) throw new Error(`not an address stream id: ${streamId}`);
  return streamId.slice(ADDRESS_STREAM_PREFIX.length);
}
