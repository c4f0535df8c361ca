import { CountersignError } from '../../core/errors.js';
import type { OidcConfigErrorCode } from './errors.js';
import type { ClaimCondition, ClaimMatcher } from '../../core/claim-matcher.js';

/** GitHub's OIDC issuer for Actions. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

function invalid(message: string): CountersignError<OidcConfigErrorCode> {
  return new CountersignError<OidcConfigErrorCode>('CONFIG_INVALID', message);
}

function defined(
  claims: Record<string, ClaimCondition | undefined>,
): Record<string, ClaimCondition> {
  const out: Record<string, ClaimCondition> = {};
  for (const [k, v] of Object.entries(claims)) if (v !== undefined) out[k] = v;
  return out;
}

/**
 * A GitHub Actions job. The token's claims (docs.github.com, "About security hardening
 * with OpenID Connect") include `repository` (`owner/name`), `repository_id`,
 * `repository_owner`, `repository_owner_id`, `ref` (`refs/heads/main`), `environment`,
 * `workflow_ref` (`owner/name/.github/workflows/deploy.yml@refs/heads/main`) and
 * `job_workflow_ref` (the reusable workflow actually running the job).
 *
 * Names can be reused after a repository or account is deleted or renamed; the numeric
 * `repositoryId` / `repositoryOwnerId` cannot, so prefer pinning them as well.
 */
export interface GithubActionsBinding {
  readonly repository?: ClaimCondition;
  readonly repositoryId?: string;
  readonly repositoryOwner?: ClaimCondition;
  readonly repositoryOwnerId?: string;
  readonly ref?: ClaimCondition;
  readonly environment?: ClaimCondition;
  readonly workflowRef?: ClaimCondition;
  readonly jobWorkflowRef?: ClaimCondition;
  /** Defaults to {@link GITHUB_ACTIONS_ISSUER}; GHES has its own. */
  readonly issuer?: string;
}

/**
 * A matcher for a GitHub Actions token. Refuses (`CONFIG_INVALID`) a binding that names
 * neither `repository` nor `repositoryId`: it would admit jobs of any repository.
 *
 * @example
 * githubActionsMatcher({ repository: 'acme/deploy', repositoryId: '123', environment: 'prod' })
 */
export function githubActionsMatcher(b: GithubActionsBinding): ClaimMatcher {
  if (b.repository === undefined && b.repositoryId === undefined) {
    throw invalid('a GitHub Actions binding must name repository or repositoryId');
  }
  return {
    issuer: b.issuer ?? GITHUB_ACTIONS_ISSUER,
    claims: defined({
      repository: b.repository,
      repository_id: b.repositoryId,
      repository_owner: b.repositoryOwner,
      repository_owner_id: b.repositoryOwnerId,
      ref: b.ref,
      environment: b.environment,
      workflow_ref: b.workflowRef,
      job_workflow_ref: b.jobWorkflowRef,
    }),
  };
}

/**
 * A Kubernetes service account, from a projected service-account token (TokenRequest
 * API). Its claims: `sub` = `system:serviceaccount:<ns>:<name>`, `aud` as requested
 * in the projection (configure the issuer's `audience` to match, so tokens minted for
 * other audiences are refused), and under `"kubernetes.io"`: `namespace`,
 * `serviceaccount.name`, `serviceaccount.uid`, `pod.name`, `pod.uid`.
 * Pin `serviceAccountUid` to stop a recreated account of the same name matching.
 */
export interface KubernetesBinding {
  /** The cluster's service-account issuer (`--service-account-issuer`). */
  readonly issuer: string;
  readonly namespace: ClaimCondition;
  readonly serviceAccount: ClaimCondition;
  readonly serviceAccountUid?: string;
}

export function kubernetesMatcher(b: KubernetesBinding): ClaimMatcher {
  return {
    issuer: b.issuer,
    claims: defined({
      'kubernetes.io.namespace': b.namespace,
      'kubernetes.io.serviceaccount.name': b.serviceAccount,
      'kubernetes.io.serviceaccount.uid': b.serviceAccountUid,
    }),
  };
}

/**
 * A SPIFFE workload, from a JWT-SVID (SPIFFE JWT-SVID spec §3): `sub` is the SPIFFE ID
 * `spiffe://<trust-domain>/<path>`, `aud` is required and must name us, `exp` is
 * required. Use a pattern to admit a subtree: `spiffe://prod.acme/ns/pay/**`.
 */
export interface SpiffeBinding {
  /** The issuer that mints the trust domain's JWT-SVIDs (e.g. the SPIRE OIDC provider). */
  readonly issuer: string;
  readonly spiffeId: ClaimCondition;
}

export function spiffeMatcher(b: SpiffeBinding): ClaimMatcher {
  const id = typeof b.spiffeId === 'string' ? b.spiffeId : b.spiffeId.pattern;
  if (!id.startsWith('spiffe://')) throw invalid('a SPIFFE ID starts with spiffe://');
  return { issuer: b.issuer, claims: { sub: b.spiffeId } };
}
