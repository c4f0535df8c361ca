import type { IssuerKind } from './config.js';
import type { ClaimMatcher } from '../../core/claim-matcher.js';

type WorkloadKind = Exclude<IssuerKind, 'human'>;

/**
 * Per workload platform, the claims that say *which* workload a token is. A binding
 * must constrain one of them: `{environment: prod}` alone, from GitHub's issuer, would
 * admit a job of any repository on GitHub. Generic issuers have no such list; any
 * claim will do.
 */
export const IDENTIFYING_CLAIMS: Readonly<Record<WorkloadKind, readonly string[]>> = {
  github_actions: ['repository', 'repository_id'],
  kubernetes: [
    'sub',
    'kubernetes.io.namespace',
    'kubernetes.io.serviceaccount.name',
    'kubernetes.io.serviceaccount.uid',
  ],
  spiffe: ['sub'],
  generic_workload: [],
};

/**
 * Why `matcher` cannot serve as an executor binding, or null when it can. The issuer
 * must be one this server trusts for workloads (else no token could ever redeem the
 * warrant, or, worse, a person's ID token would be asked to), and the matcher must
 * name the workload, not merely its platform.
 *
 * @param workloadIssuers issuer URL → kind, of every trusted workload issuer.
 */
export function executorBindingProblem(
  workloadIssuers: ReadonlyMap<string, WorkloadKind>,
  matcher: ClaimMatcher,
): string | null {
  const kind = workloadIssuers.get(matcher.issuer);
  if (kind === undefined) return 'the executor issuer is not a trusted workload issuer';
  const names = Object.keys(matcher.claims);
  if (names.length === 0) return 'a claim binding must constrain at least one claim';
  const identifying = IDENTIFYING_CLAIMS[kind];
  if (identifying.length > 0 && !names.some((n) => identifying.includes(n))) {
    return `a ${kind} binding must constrain one of: ${identifying.join(', ')}`;
  }
  return null;
}
