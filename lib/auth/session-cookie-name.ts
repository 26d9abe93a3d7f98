/** Its own module so proxy.ts can read it without pulling in the database layer. */
export const SESSION_COOKIE = 'address_ledger_session';
