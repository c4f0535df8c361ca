import type { PrincipalId } from '../core/ids.js';
import type { VerifiedIdentity } from './oidc/identity.js';
import type { Role } from './roles.js';

/** A caller proven by a static bearer API token (bootstrap and dev). */
export interface ApiTokenCaller {
  readonly id: PrincipalId;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
  readonly via: 'api_token';
}

/**
 * A caller proven by a verified OIDC or workload token: a person signed in at a trusted
 * issuer, or a workload (a CI job, a pod) vouched for by its platform. The second
 * member of a tagged union on `via`.
 */
export interface FederatedPrincipal {
  /** `<issuerName>:<subject>`; issuer names cannot contain `:`, so this is unambiguous. */
  readonly id: PrincipalId;
  readonly roles: readonly Role[];
  /** The groups its issuer is trusted to assert: these grant. */
  readonly groups: readonly string[];
  /** Every group its token names: any of these still excludes it as an owner. */
  readonly claimedGroups: readonly string[];
  readonly via: 'oidc';
  readonly identity: VerifiedIdentity;
}

/**
 * An authenticated caller, tagged by how it proved who it is: a static API token, or
 * a verified OIDC / workload token whose identity travels with it (for the approval's
 * identity proof, recent-authentication checks and executor claim matching).
 */
export type Principal = ApiTokenCaller | FederatedPrincipal;

export type IdentityErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN';

/** Turns the credentials of a request into a principal, or null when they prove nothing. */
export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Principal | null>;
}

export function hasRole(p: Principal, role: Role): boolean {
  return p.roles.includes(role);
}
