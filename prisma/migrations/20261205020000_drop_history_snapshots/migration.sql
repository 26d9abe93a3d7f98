-- Reverts are decided on a compact lookback since this release (domain/address/state.ts
-- AddressLookback), kept under the snapshot kind 'address-lookback'. The snapshots of the old
-- kind, 'address-history' (every version's fields: about 2 MB for a 10,000-event address), are
-- never read again; stream_snapshots is a cache, so they go.
DELETE FROM "stream_snapshots" WHERE "kind" = 'address-history';
