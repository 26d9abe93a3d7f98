import pino from 'pino';
import { logger } from '@/lib/logger';

/**
 * Captures everything the shared logger (lib/logger.ts) writes (it is silent in tests by default), so a test can
 * assert that no password or token ever reaches the logs.
 */
export function captureLogs(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const target = logger as unknown as Record<symbol, unknown>;
  const stream = target[pino.symbols.streamSym];
  const level = logger.level;
  target[pino.symbols.streamSym] = { write: (line: string) => lines.push(line) };
  logger.level = 'trace';
  return {
    lines,
    restore() {
      target[pino.symbols.streamSym] = stream;
      logger.level = level;
    },
  };
}
