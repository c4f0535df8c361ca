/**
 * Identity federation: verify OIDC and workload identity tokens from configured issuers,
 * turn them into principals, bind executors to workload claims, and stop replays.
 */
export {
  ASYMMETRIC_ALGORITHMS,
  DEFAULT_APPROVAL_AUTH_MAX_AGE,
  ISSUER_KINDS,
  OidcConfigSchema,
  TrustedIssuerSchema,
  WORKLOAD_ROLES,
  parseOidcConfig,
} from './config.js';
export type {
  AsymmetricAlgorithm,
  IssuerKind,
  OidcConfig,
  OidcConfigFile,
  TrustedIssuer,
} from './config.js';
export { IDENTITY_TOKEN_ERROR_CODES, isIdentityTokenError } from './errors.js';
export type {
  IdentityTokenError,
  IdentityTokenErrorCode,
  IdentityTokenErrorDetails,
  OidcConfigErrorCode,
} from './errors.js';
export { readClaim } from './claims.js';
export { discoveryUrl } from './discovery.js';
export type { VerifiedIdentity } from './identity.js';
export {
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_MAX_TOKEN_LENGTH,
  TokenVerifier,
  looksLikeJwt,
} from './verifier.js';
export type { TokenVerifierOptions } from './verifier.js';
export { MemoryReplayGuard, REPLAY_RETENTION_LEEWAY_SECONDS, consumeToken } from './replay.js';
export type { ConsumeOptions, MemoryReplayGuardOptions, ReplayGuard } from './replay.js';
export {
  ClaimMatcherSchema,
  MAX_MATCHED_VALUE_LENGTH,
  globMatches,
  globToRegExp,
  matchClaims,
} from './matcher.js';
export type { ClaimCondition, ClaimMatcher, ClaimMatcherJson, MatchResult } from './matcher.js';
export {
  GITHUB_ACTIONS_ISSUER,
  githubActionsMatcher,
  kubernetesMatcher,
  spiffeMatcher,
} from './presets.js';
export type { GithubActionsBinding, KubernetesBinding, SpiffeBinding } from './presets.js';
export { FederatedAuthenticator, federatedPrincipal, requireRecentAuth } from './authenticator.js';
export type {
  FallbackAuthenticator,
  FederatedPrincipal,
  IdentityTokenVerifier,
} from './authenticator.js';
export { IDENTIFYING_CLAIMS, executorBindingProblem } from './binding.js';
