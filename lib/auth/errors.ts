/** Authentication/authorisation failures; `app/` maps them to 401 and 403. */

export class UnauthorizedError extends Error {
  readonly code = 'unauthorized';
  constructor(message = 'sign in or send an API token (Authorization: Bearer <token>)') {
    super(message);
    this.name = 'UnauthorizedError';
  }
}

export class ForbiddenError extends Error {
  readonly code = 'forbidden';
  constructor(message = 'your role does not allow this') {
    super(message);
    this.name = 'ForbiddenError';
  }
}

export type AccountRule =
  | 'email_taken'
  | 'setup_closed'
  | 'last_admin'
  | 'not_found'
  | 'token_name_taken'
  | 'self_change';

/**
 * An account change that breaks a rule (an e-mail already in use, removing the last admin…).
 * The message is written for the person at the admin screen or the command line.
 */
export class AccountRuleError extends Error {
  constructor(
    readonly rule: AccountRule,
    message: string,
  ) {
    super(message);
    this.name = 'AccountRuleError';
  }
}
