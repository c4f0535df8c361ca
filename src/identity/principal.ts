import type { PrincipalId } from '../core/ids.js';

export const ROLES = ['requester', 'approver', 'executor', 'observer', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated caller, however it proved who it is. */
export interface Principal {
  readonly id: PrincipalId;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
  readonly via: 'api_token';
}

export type IdentityErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN';

/** Turns the credentials of a request into a principal, or null when they prove nothing. */
export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Principal | null>;
}

export function hasRole(p: Principal, role: Role): boolean {
  return p.roles.includes(role);
}
