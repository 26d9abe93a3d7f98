import pino from 'pino';

/**
 * One structured (JSON) logger for every process. Secrets and personal data are redacted by
 * path so that a careless `log.info({ req })` cannot leak a token, a password or an address.
 */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  base: { service: process.env.SERVICE_NAME ?? 'address-ledger' },
  redact: {
    paths: [
      'password',
      '*.password',
      'token',
      '*.token',
      'authorization',
      '*.authorization',
      'headers.authorization',
      'headers.cookie',
      '*.headers.authorization',
      '*.headers.cookie',
      'cookie',
      'databaseUrl',
      '*.databaseUrl',
      'data',
      '*.data',
    ],
    censor: '[redacted]',
  },
});

export type Logger = typeof logger;

/** Strips the password from a connection string before it is shown anywhere. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
