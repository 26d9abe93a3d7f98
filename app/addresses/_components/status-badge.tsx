import type { AddressStatus } from '@/domain/address';

export function StatusBadge({ status }: { status: AddressStatus }) {
  return <span className={`badge badge-${status}`}>{status === 'active' ? 'Active' : 'Archived'}</span>;
}
