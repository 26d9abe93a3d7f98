import type { Actor, Role } from '@/domain/messages';

/**
 * What each role may do (DESIGN §6). Checked on the server for every route, action and page;
 * hiding a button is never the protection.
 */
export type Permission =
  /** Read addresses, search, one address's history and past states. */
  | 'address:read'
  /** Issue commands: register, change, correct, revert, archive, restore. */
  | 'address:write'
  /** The global event feed, audit log and exports. */
  | 'audit:read'
  /** Users, tokens, projection rebuilds. */
  | 'admin';

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  operator: ['address:read', 'address:write'],
  auditor: ['address:read', 'audit:read'],
  admin: ['address:read', 'address:write', 'audit:read', 'admin'],
};

export function can(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

/** Whether an actor (possibly none, or the `system` actor, which never acts for a person) may. */
export function actorCan(actor: Actor | null, permission: Permission): boolean {
  return actor !== null && actor.role !== 'system' && can(actor.role, permission);
}
