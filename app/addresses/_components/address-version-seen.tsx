'use client';

import { useNoteAddressVersion } from '@/app/_lib/address-versions';

/**
 * Renders nothing. On an address's page it tells this tab's query cache which version the page
 * shows: after a command (the page renders again with the new version) every cached search that
 * still holds the older one is refetched, and lists read the address with `minVersion`.
 */
export function AddressVersionSeen({ id, version }: { id: string; version: number }) {
  useNoteAddressVersion(id, version);
  return null;
}
