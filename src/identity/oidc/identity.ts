import { sha256Hex } from '../../core/crypto.js';
import { ROLES, type Role } from '../roles.js';
import { readClaim } from '../../core/claim-path.js';
import type { IssuerKind, TrustedIssuer } from './config.js';
import { tokenError } from './errors.js';

/** The longest subject or group name accepted from a token. */
const MAX_NAME = 512;
const MAX_GROUPS = 256;

/** Who a verified federated token says the caller is. Every field comes from verified data. */
export interface VerifiedIdentity {
  readonly kind: 'human' | 'workload';
  /** The configured issuer's kind (which workload platform, or `human`). */
  readonly issuerKind: IssuerKind;
  /** The `iss` claim, equal to the configured issuer. */
  readonly issuer: string;
  /** The local name of the issuer in configuration. */
  readonly issuerName: string;
  readonly subject: string;
  /**
   * Groups from the configured groups claim that the issuer is trusted to assert
   * (`trustedGroups`): what makes the person an approver or an NHI owner. Always empty
   * for workloads.
   */
  readonly groups: readonly string[];
  /**
   * Every group the claim names, trusted or not: a group the issuer may not grant still
   * keeps the person from approving for an NHI that group owns (decision 0041).
   */
  readonly claimedGroups: readonly string[];
  readonly roles: readonly Role[];
  /** The verified payload, frozen. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** `auth_time` in epoch seconds, or null when the token has none. */
  readonly authTime: number | null;
  /** `sha256:` + hex of the `jti` when present, else of the whole token. Safe to log. */
  readonly tokenDigest: `sha256:${string}`;
  readonly jti: string | null;
  readonly exp: number;
}

function claimInvalid(issuer: TrustedIssuer, claim: string, reason: string): Error {
  return tokenError(
    'TOKEN_CLAIM_INVALID',
    `the "${claim}" claim is ${reason} in a token of issuer ${issuer.name}`,
    { claim, issuerName: issuer.name, reason },
  );
}

function subjectOf(issuer: TrustedIssuer, payload: Record<string, unknown>): string {
  const sub = readClaim(payload, issuer.claims.subject);
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_NAME) {
    throw claimInvalid(issuer, issuer.claims.subject, 'missing or not a short string');
  }
  return sub;
}

function groupsOf(issuer: TrustedIssuer, payload: Record<string, unknown>): string[] {
  if (issuer.kind !== 'human') return [];
  const groups = readClaim(payload, issuer.claims.groups);
  if (groups === undefined) return [];
  if (
    !Array.isArray(groups) ||
    groups.length > MAX_GROUPS ||
    !groups.every((g) => typeof g === 'string' && g.length > 0 && g.length <= MAX_NAME)
  ) {
    throw claimInvalid(issuer, issuer.claims.groups, 'not a list of group names');
  }
  return [...new Set(groups as string[])];
}

/** Roles in their canonical order: group roles for people, the fixed set for workloads. */
export function rolesFor(issuer: TrustedIssuer, groups: readonly string[]): Role[] {
  const granted = new Set<Role>(
    issuer.kind === 'human'
      ? groups.flatMap((g) => issuer.roles.get(g) ?? [])
      : issuer.workloadRoles,
  );
  return ROLES.filter((r) => granted.has(r));
}

/** Refuses a token outside the tenants its issuer is bound to (`boundClaims`). */
function assertBound(issuer: TrustedIssuer, payload: Record<string, unknown>): void {
  for (const [claim, allowed] of issuer.boundClaims) {
    const value = readClaim(payload, claim);
    if (typeof value !== 'string' || !allowed.includes(value)) {
      throw claimInvalid(issuer, claim, 'not one this issuer is bound to');
    }
  }
}

function optionalNumericDate(
  issuer: TrustedIssuer,
  payload: Record<string, unknown>,
  claim: string,
): number | null {
  const v = payload[claim];
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw claimInvalid(issuer, claim, 'not a NumericDate');
  }
  return v;
}

function jtiOf(issuer: TrustedIssuer, payload: Record<string, unknown>): string | undefined {
  const jti = payload['jti'];
  if (jti === undefined) return undefined;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_NAME) {
    throw claimInvalid(issuer, 'jti', 'not a short string');
  }
  return jti;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Builds the identity from a payload whose signature and registered claims jose has
 * already verified. Pure: the caller supplies the verified payload and the raw token
 * (only to digest it when there is no `jti`).
 */
export function buildIdentity(
  issuer: TrustedIssuer,
  payload: Record<string, unknown>,
  token: string,
): VerifiedIdentity {
  const exp = optionalNumericDate(issuer, payload, 'exp');
  if (exp === null) throw claimInvalid(issuer, 'exp', 'missing');
  assertBound(issuer, payload);
  const jti = jtiOf(issuer, payload);
  const subject = subjectOf(issuer, payload);
  const claimedGroups = groupsOf(issuer, payload);
  const trusted = issuer.trustedGroups;
  const groups = trusted === null ? claimedGroups : claimedGroups.filter((g) => trusted.has(g));
  return Object.freeze({
    kind: issuer.kind === 'human' ? 'human' : 'workload',
    issuerKind: issuer.kind,
    issuer: issuer.issuer,
    issuerName: issuer.name,
    subject,
    groups: Object.freeze(groups),
    claimedGroups: Object.freeze(claimedGroups),
    roles: Object.freeze(rolesFor(issuer, groups)),
    claims: deepFreeze(structuredClone(payload)),
    authTime: optionalNumericDate(issuer, payload, 'auth_time'),
    tokenDigest: `sha256:${sha256Hex(jti ?? token)}`,
    jti: jti ?? null,
    exp,
  } satisfies VerifiedIdentity);
}
