import Link from 'next/link';

/** Addresses › the address › History [› a sub-page]. Never prefetches: history views are recorded. */
export function HistoryBreadcrumb({ addressId, line1, here }: { addressId: string; line1: string; here?: string }) {
  const sep = <span aria-hidden="true">›</span>;
  return (
    <nav className="breadcrumb" aria-label="Breadcrumb">
      <Link prefetch={false} href="/addresses">
        Addresses
      </Link>{' '}
      {sep}{' '}
      <Link prefetch={false} href={`/addresses/${addressId}`}>
        {line1}
      </Link>{' '}
      {sep}{' '}
      {here ? (
        <>
          <Link prefetch={false} href={`/addresses/${addressId}/history`}>
            History
          </Link>{' '}
          {sep} {here}
        </>
      ) : (
        'History'
      )}
    </nav>
  );
}
