import type { SearchLag } from '@/projections/read-side';

/** Whether the search index is behind the event store or failing, i.e. whether to say so at all. */
export function searchIsBehind(lag: SearchLag | null | undefined): lag is SearchLag {
  return !!lag && (lag.events > 0 || lag.failing);
}

export function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

const events = (n: number) => `${n.toLocaleString('en')} ${n === 1 ? 'event' : 'events'}`;

/**
 * The lag notice in one sentence, or null when the index is up to date. A failing index is one
 * state, said once: it used to read "still catching up" and "failing" side by side, two claims of
 * which only the second was true.
 */
export function lagMessage(lag: SearchLag | null | undefined): string | null {
  if (!searchIsBehind(lag)) return null;
  const own = 'An address’s own page is always up to date.';
  if (lag.failing) {
    const missing = lag.events > 0 ? ` (${events(lag.events)} not in it yet)` : '';
    return `The search index is failing to update, so results may be missing recent changes${missing}. ${own}`;
  }
  const age = lag.seconds >= 1 ? `, about ${formatSeconds(lag.seconds)}` : '';
  return `The search index is catching up: results may be ${events(lag.events)} behind${age}. ${own}`;
}
