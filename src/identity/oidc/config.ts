import { Type, type Static } from '@sinclair/typebox';
import { outboundUrlProblem, type OutboundUrlProblem } from '../../core/outbound-url.js';
import { Value } from '@sinclair/typebox/value';
import { CountersignError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { ROLES, type Role } from '../roles.js';
import type { OidcConfigErrorCode } from './errors.js';

/** What an issuer vouches for: people, or one of the workload platforms. */
export const ISSUER_KINDS = [
  'human',
  'github_actions',
  'kubernetes',
  'spiffe',
  'generic_workload',
] as const;
export type IssuerKind = (typeof ISSUER_KINDS)[number];

/**
 * Asymmetric JWS algorithms (RFC 7518 §3, RFC 8037) an issuer may be trusted for.
 * `none` and the HMAC family are absent on purpose: a shared-secret algorithm lets
 * anyone holding the issuer's *public* key forge tokens (key confusion).
 */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** Roles a workload token may be granted. Approving and administering stay with people. */
export const WORKLOAD_ROLES = ['requester', 'executor', 'observer'] as const;

export const DEFAULT_APPROVAL_AUTH_MAX_AGE = '10m';

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Url = Type.String({ minLength: 1, maxLength: 2048 });
const ClaimName = Type.String({ pattern: '^[A-Za-z0-9_:./-]{1,128}$' });
const BoundValue = Type.String({ minLength: 1, maxLength: 512 });

/**
 * Claims one of which a GitHub Actions token must be bound by: any repository on GitHub can
 * mint a token for any audience, so without one every job in the world is a workload here.
 */
const GITHUB_OWNER_CLAIMS = [
  'repository_owner',
  'repository_owner_id',
  'repository',
  'repository_id',
];

export const TrustedIssuerSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
    issuer: Url,
    kind: Type.Union(ISSUER_KINDS.map((k) => Type.Literal(k))),
    audience: Type.String({ minLength: 1, maxLength: 256 }),
    algorithms: Type.Array(Type.String({ minLength: 1, maxLength: 16 }), {
      minItems: 1,
      maxItems: 16,
    }),
    jwksUri: Type.Optional(Url),
    typ: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    claims: Type.Optional(
      Type.Object(
        { subject: Type.Optional(ClaimName), groups: Type.Optional(ClaimName) },
        { additionalProperties: false },
      ),
    ),
    roles: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.Array(RoleSchema)),
    ),
    trustedGroups: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 1024 }),
    ),
    workloadRoles: Type.Optional(Type.Array(RoleSchema)),
    boundClaims: Type.Optional(
      Type.Record(
        ClaimName,
        Type.Union([BoundValue, Type.Array(BoundValue, { minItems: 1, maxItems: 64 })]),
      ),
    ),
    maxTokenAge: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    /**
     * For the console's sign-in at a human issuer (authorization code flow, where
     * `audience` is the client id): a confidential client's secret, read from a file or
     * an environment variable, never written in the config. Without one the console is a
     * public client and PKCE alone binds the code to it.
     */
    clientSecretFile: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    clientSecretEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]{0,127}$' })),
  },
  { additionalProperties: false },
);

/** The `oidc` section of the server configuration, as written. Embed it in `ConfigSchema`. */
export const OidcConfigSchema = Type.Object(
  {
    issuers: Type.Array(TrustedIssuerSchema, { maxItems: 64 }),
    approvalAuthMaxAge: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  },
  { additionalProperties: false },
);
export type OidcConfigFile = Static<typeof OidcConfigSchema>;

/** One trusted issuer, validated and with its defaults applied. */
export interface TrustedIssuer {
  readonly name: string;
  /** Compared exactly (OIDC Discovery §4.3): no normalisation of case or trailing slash. */
  readonly issuer: string;
  readonly kind: IssuerKind;
  readonly audience: string;
  readonly algorithms: readonly AsymmetricAlgorithm[];
  /** Null means: find it through OIDC discovery. */
  readonly jwksUri: string | null;
  /** Required `typ` header (compared as RFC 8725 §3.11 says), or null for any. */
  readonly typ: string | null;
  readonly claims: { readonly subject: string; readonly groups: string };
  /** Group → roles, for human issuers. A map, so a group named `__proto__` is just a name. */
  readonly roles: ReadonlyMap<string, readonly Role[]>;
  /**
   * The groups this issuer's tokens may make a person a member of (approver groups, NHI
   * owners), or null for every group they name: allowed only for the one human issuer,
   * since a group's name means the same at every issuer (decision 0041).
   */
  readonly trustedGroups: ReadonlySet<string> | null;
  /** Roles of every verified token, for workload issuers. */
  readonly workloadRoles: readonly Role[];
  /**
   * Claim → the values a token must carry in it (one of them) to be accepted at all, as
   * Vault's `bound_claims`: the tenant of a shared platform, such as the repository owner.
   */
  readonly boundClaims: ReadonlyMap<string, readonly string[]>;
  readonly maxTokenAgeSeconds: number | null;
  /** Where a human issuer's client secret is read from, or null for a public client. */
  readonly clientSecret: { readonly file: string } | { readonly env: string } | null;
}

export interface OidcConfig {
  readonly issuers: readonly TrustedIssuer[];
  /** How recent `auth_time` must be for an approval. */
  readonly approvalAuthMaxAgeSeconds: number;
}

function invalid(message: string): CountersignError<OidcConfigErrorCode> {
  return new CountersignError<OidcConfigErrorCode>('CONFIG_INVALID', `oidc config: ${message}`);
}

const HTTPS = 'must use https (plain http only to a loopback address)';
const FRAGMENT = 'must not have a fragment';
const URL_PROBLEM_TEXT: Readonly<Record<OutboundUrlProblem, string>> = {
  not_url: 'not an absolute URL',
  not_http: HTTPS,
  plain_http: HTTPS,
  userinfo: 'must not carry credentials',
  fragment: FRAGMENT,
};

/**
 * Why `text` is not an acceptable issuer or JWKS URL, or null when it is: HTTPS, or
 * plain HTTP to a loopback address (tests and local IdPs); no credentials, no fragment
 * (not even an empty one), and for an issuer no query (OIDC Discovery §2).
 */
export function urlProblem(text: string, forIssuer: boolean): string | null {
  const problem = outboundUrlProblem(text, 'loopback');
  if (problem !== null) return URL_PROBLEM_TEXT[problem];
  if (text.includes('#')) return FRAGMENT;
  if (forIssuer && (new URL(text).search || text.includes('?'))) return 'must not have a query';
  return null;
}

function checkUrl(text: string, at: string, forIssuer: boolean): void {
  const problem = urlProblem(text, forIssuer);
  if (problem !== null) throw invalid(`${at}: ${problem}`);
}

function checkAlgorithms(algs: readonly string[], at: string): AsymmetricAlgorithm[] {
  return algs.map((alg, j) => {
    if (alg.toLowerCase() === 'none') {
      throw invalid(`${at}/${j}: "none" means unsigned and is never allowed`);
    }
    if (/^HS/i.test(alg)) {
      throw invalid(`${at}/${j}: ${alg} is a shared-secret algorithm and is never allowed`);
    }
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw invalid(
        `${at}/${j}: unsupported algorithm (use one of ${ASYMMETRIC_ALGORITHMS.join(', ')})`,
      );
    }
    return alg as AsymmetricAlgorithm;
  });
}

function seconds(text: string, at: string): number {
  try {
    return Math.floor(parseDuration(text) / 1000);
  } catch (e) {
    throw invalid(`${at}: ${(e as Error).message}`);
  }
}

function compileIssuer(i: OidcConfigFile['issuers'][number], at: string): TrustedIssuer {
  checkUrl(i.issuer, `${at}/issuer`, true);
  if (i.jwksUri !== undefined) checkUrl(i.jwksUri, `${at}/jwksUri`, false);
  const human = i.kind === 'human';
  if (human && i.workloadRoles !== undefined) {
    throw invalid(`${at}/workloadRoles: only workload issuers grant workload roles`);
  }
  if (!human && i.roles !== undefined) {
    throw invalid(`${at}/roles: group roles apply to human issuers only; use workloadRoles`);
  }
  if (!human && (i.claims?.groups !== undefined || i.trustedGroups !== undefined)) {
    const field = i.trustedGroups !== undefined ? 'trustedGroups' : 'claims/groups';
    throw invalid(`${at}/${field}: workload identities carry no groups`);
  }
  const trusted = i.trustedGroups === undefined ? null : new Set(i.trustedGroups);
  for (const group of Object.keys(i.roles ?? {})) {
    if (trusted !== null && !trusted.has(group)) {
      throw invalid(`${at}/roles/${group}: not one of this issuer's trustedGroups`);
    }
  }
  if (!human && (i.clientSecretFile !== undefined || i.clientSecretEnv !== undefined)) {
    throw invalid(`${at}: only a human issuer signs people in to the console with a client secret`);
  }
  if (i.clientSecretFile !== undefined && i.clientSecretEnv !== undefined) {
    throw invalid(`${at}: name the client secret by clientSecretFile or clientSecretEnv, not both`);
  }
  const bound = new Map(
    Object.entries(i.boundClaims ?? {}).map(([c, v]) => [c, typeof v === 'string' ? [v] : v]),
  );
  if (i.kind === 'github_actions' && !GITHUB_OWNER_CLAIMS.some((c) => bound.has(c))) {
    throw invalid(
      `${at}/boundClaims: any repository on GitHub can mint this token; bind it by one of ` +
        `${GITHUB_OWNER_CLAIMS.join(', ')} (e.g. boundClaims: {repository_owner: acme})`,
    );
  }
  for (const [j, role] of (i.workloadRoles ?? []).entries()) {
    if (!(WORKLOAD_ROLES as readonly string[]).includes(role)) {
      throw invalid(`${at}/workloadRoles/${j}: a workload may not hold the ${role} role`);
    }
  }
  return {
    name: i.name,
    issuer: i.issuer,
    kind: i.kind,
    audience: i.audience,
    algorithms: checkAlgorithms(i.algorithms, `${at}/algorithms`),
    jwksUri: i.jwksUri ?? null,
    typ: i.typ ?? null,
    claims: { subject: i.claims?.subject ?? 'sub', groups: i.claims?.groups ?? 'groups' },
    roles: new Map(Object.entries(i.roles ?? {}).map(([g, r]) => [g, [...new Set(r)]])),
    trustedGroups: trusted,
    workloadRoles: [...new Set(i.workloadRoles ?? [])],
    boundClaims: bound,
    maxTokenAgeSeconds:
      i.maxTokenAge === undefined ? null : seconds(i.maxTokenAge, `${at}/maxTokenAge`),
    clientSecret:
      i.clientSecretFile !== undefined
        ? { file: i.clientSecretFile }
        : i.clientSecretEnv !== undefined
          ? { env: i.clientSecretEnv }
          : null,
  };
}

/**
 * Validates the `oidc` configuration section and applies its defaults. Errors carry the
 * code `CONFIG_INVALID` and a message naming the JSON path of the first problem.
 *
 * @param at JSON path of the section inside the whole file, for messages (e.g. `/oidc`).
 * @example
 * const oidc = parseOidcConfig(parseYaml(text), '/oidc');
 */
export function parseOidcConfig(doc: unknown, at = ''): OidcConfig {
  const first = Value.Errors(OidcConfigSchema, doc).First();
  if (first) throw invalid(`${at}${first.path || '/'}: ${first.message}`);
  const file = doc as OidcConfigFile;
  const names = new Set<string>();
  const issuers = new Set<string>();
  const compiled = file.issuers.map((raw, n) => {
    const path = `${at}/issuers/${n}`;
    if (names.has(raw.name)) throw invalid(`${path}/name: duplicate issuer name`);
    if (issuers.has(raw.issuer)) throw invalid(`${path}/issuer: duplicate issuer`);
    names.add(raw.name);
    issuers.add(raw.issuer);
    return compileIssuer(raw, path);
  });
  const people = compiled.filter((i) => i.kind === 'human');
  const open = people.findIndex((i) => i.trustedGroups === null);
  if (people.length > 1 && open !== -1) {
    const n = compiled.indexOf(people[open] as TrustedIssuer);
    throw invalid(
      `${at}/issuers/${n}/trustedGroups: with more than one human issuer, each lists the ` +
        'groups it may assert, else a group named by any of them would count',
    );
  }
  return {
    issuers: compiled,
    approvalAuthMaxAgeSeconds: seconds(
      file.approvalAuthMaxAge ?? DEFAULT_APPROVAL_AUTH_MAX_AGE,
      `${at}/approvalAuthMaxAge`,
    ),
  };
}
