/**
 * Ascending stream versions as runs of consecutive ones: `[[2, 4], [7, 7]]` is 2, 3, 4 and 7. A
 * revert's lookback keeps its versions so (state.ts): on a long history most of them are runs
 * (every version a change), and a list of 10,000 numbers cost a revert about 1 ms to decode from
 * its snapshot, copy per fold and search, against microseconds for a few runs.
 */
export type VersionRuns = [first: number, last: number][];

/** Adds `version`, above every version in `runs`, in place (a run that grows is replaced, not changed). */
export function appendVersion(runs: VersionRuns, version: number): void {
  const last = runs.at(-1);
  if (last && last[1] === version - 1) runs[runs.length - 1] = [last[0], version];
  else runs.push([version, version]);
}

export function countVersions(runs: VersionRuns): number {
  return runs.reduce((n, [first, last]) => n + last - first + 1, 0);
}

export function hasVersion(runs: VersionRuns, version: number): boolean {
  // From the end: what a revert looks for is, as a rule, recent.
  for (let i = runs.length - 1; i >= 0; i--) {
    const [first, last] = runs[i]!;
    if (version > last) return false;
    if (version >= first) return true;
  }
  return false;
}

/** The versions in `runs` above `version`, ascending. */
export function versionsAfter(runs: VersionRuns, version: number): number[] {
  const out: number[] = [];
  for (const [first, last] of runs) {
    for (let v = Math.max(first, version + 1); v <= last; v++) out.push(v);
  }
  return out;
}

/** How many versions in `runs` are above `version`. */
export function countAfter(runs: VersionRuns, version: number): number {
  let n = 0;
  for (let i = runs.length - 1; i >= 0; i--) {
    const [first, last] = runs[i]!;
    if (last <= version) break;
    n += last - Math.max(first, version + 1) + 1;
  }
  return n;
}

/** As text, for a snapshot (jsonb turns numbers into text slowly): `[[2, 4], [7, 7]]` → "2-4,7". */
export function runsText(runs: VersionRuns): string {
  return runs.map(([first, last]) => (first === last ? `${first}` : `${first}-${last}`)).join(',');
}

export function runsFromText(text: string): VersionRuns {
  if (text === '') return [];
  return text.split(',').map((run) => {
    const dash = run.indexOf('-');
    const first = Number.parseInt(run, 10);
    return [first, dash === -1 ? first : Number.parseInt(run.slice(dash + 1), 10)];
  });
}
