import type { ReactNode } from 'react';
import type { Highlight } from '@/projections/search/search-index';

/** A value with its matched parts in <mark>. */
export function Marked({ value, ranges }: { value: string; ranges?: Highlight[] }) {
  if (!ranges || ranges.length === 0) return <>{value}</>;
  const parts: ReactNode[] = [];
  let at = 0;
  for (const r of [...ranges].sort((a, b) => a.start - b.start)) {
    if (r.start < at) continue;
    if (r.start > at) parts.push(value.slice(at, r.start));
    parts.push(<mark key={r.start}>{value.slice(r.start, r.start + r.length)}</mark>);
    at = r.start + r.length;
  }
  if (at < value.length) parts.push(value.slice(at));
  return <>{parts}</>;
}
