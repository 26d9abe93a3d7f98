-- The address state no longer keeps every version (ADDRESS_STATE_SHAPE 2, domain/address/state.ts),
-- so snapshots of layout 1 are never read again: they are a cache, and one of a 10,000-event
-- address held ≈ 1.7 MB. Code of layout 2 writes its own rows (kinds 'address' and
-- 'address-history'); nothing else changes.
DELETE FROM "stream_snapshots" WHERE "kind" = 'address' AND "shape" = 1;
