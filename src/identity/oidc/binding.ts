import type { IssuerKind } from './config.js';
import type { ClaimCondition, ClaimMatcher } from '../../core/claim-matcher.js';

type WorkloadKind = Exclude<IssuerKind, 'human'>;

/**
 * Per workload platform, the claims that say *which* workload a token is, each with what
 * a glob over it must spell out before its first `*`: the text that pins one workload's
 * owner (null: only a plain value pins it, as for opaque ids). A binding must constrain
 * one of them: `{environment: prod}` alone, from GitHub's issuer, would admit a job of any
 * repository on GitHub, and so would `repository: {pattern: '**'}`. Generic issuers have
 * no such list; any claim will do.
 */
export const IDENTIFYING_CLAIMS: Readonly<
  Record<WorkloadKind, Readonly<Record<string, RegExp | null>>>
> = {
  // `owner/name`: a glob names the owner, as `acme/*` does.
  github_actions: { repository: /^[^*/]+\//, repository_id: null },
  // `system:serviceaccount:<namespace>:<name>`: a glob names the namespace.
  // A service account's name alone is not one: `default` is in every namespace.
  kubernetes: {
    sub: /^system:serviceaccount:[^*:]+:/,
    'kubernetes.io.namespace': null,
    'kubernetes.io.serviceaccount.uid': null,
  },
  // `spiffe://<trust domain>/<path>`: a glob names the trust domain and two path segments
  // (SPIRE's `/ns/<namespace>/…`: the first is a fixed word, the second the owner).
  spiffe: { sub: /^spiffe:\/\/[^*/]+\/[^*/]+\/[^*/]+\// },
  generic_workload: {},
};

/** Whether `condition` pins the workload, as `prefix` says a glob must. */
function pins(condition: ClaimCondition, prefix: RegExp | null): boolean {
  if (typeof condition === 'string') return true;
  const at = condition.pattern.indexOf('*');
  if (at < 0) return true;
  return prefix !== null && prefix.test(condition.pattern.slice(0, at));
}

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
  const identifying = Object.entries(IDENTIFYING_CLAIMS[kind]);
  if (identifying.length === 0) return null;
  const pinned = identifying.some(([name, prefix]) => {
    const condition = matcher.claims[name];
    return condition !== undefined && pins(condition, prefix);
  });
  if (pinned) return null;
  const list = identifying.map(([name]) => name).join(', ');
  return `a ${kind} binding must constrain one of: ${list}, with a value or a glob naming its owner before any *`;
}
