/**
 * Console roles (memberships of the console app's `operators` tenant) and what each may do: `viewer` reads,
 * `admin` also changes apps, clients, tenants, accounts and invitations, `owner` also manages operators.
 * The highest role an operator holds counts.
 */
export const CONSOLE_ROLES = ['owner', 'admin', 'viewer'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

export type ConsoleAction = 'read' | 'manage' | 'manage_operators';

const ALLOWED: Record<ConsoleRole, ReadonlySet<ConsoleAction>> = {
  owner: new Set(['read', 'manage', 'manage_operators']),
  admin: new Set(['read', 'manage']),
  viewer: new Set(['read']),
};

/** The operator's console role from their membership roles; undefined when they hold none (not an operator). */
export function consoleRole(roles: readonly string[]): ConsoleRole | undefined {
  return CONSOLE_ROLES.find((role) => roles.includes(role));
}

export function mayDo(role: ConsoleRole, action: ConsoleAction): boolean {
  return ALLOWED[role].has(action);
}
