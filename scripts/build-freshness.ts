import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/*
 * Whether the production build in `.next/` is missing or older than the sources: `npm start`
 * builds then, and so does the test that runs the built web server (scripts/web-server.int.spec.ts).
 */

const SOURCE_DIRS = ['app', 'lib', 'domain', 'projections', 'public'];
// proxy.ts and instrumentation.ts are part of the build too (a change to them was not rebuilt).
const SOURCE_FILES = [
  'next.config.js',
  'proxy.ts',
  'instrumentation.ts',
  'package-lock.json',
  'prisma/schema.prisma',
  'tsconfig.json',
];

export function needsBuild(root: string): boolean {
  const buildId = path.join(root, '.next', 'BUILD_ID');
  if (!existsSync(buildId)) return true;
  const built = statSync(buildId).mtimeMs;
  const newer = (p: string): boolean => {
    if (!existsSync(p)) return false;
    const s = statSync(p);
    if (s.isFile()) return s.mtimeMs > built;
    return readdirSync(p).some((name) => !name.startsWith('.') && newer(path.join(p, name)));
  };
  return [...SOURCE_DIRS, ...SOURCE_FILES].some((p) => newer(path.join(root, p)));
}

/** `next build`'s entry point, run by Node directly (npx/npm would not pass SIGTERM on). */
export const nextBin = (root: string) => path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next');
