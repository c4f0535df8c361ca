import { preparsePolicySet, statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import type { RedemptionAction } from '../src/redemption/redemption.js';
import type { ScopeEntry } from '../src/core/scope.js';
import { now, seconds } from './util.js';

/**
 * The same scope question asked of Cedar: one `permit` per scope entry over the
 * resource's path, the environment and the target, with the policy set preparsed once.
 * Cedar's `like` `*` spans `/`, slightly looser than a countersign segment wildcard;
 * on the generated actions both give the same decisions (checked below).
 */
export function cedarDecisionsPerSecond(
  scope: readonly ScopeEntry[],
  environment: string,
  targets: readonly string[],
  executor: string,
  actions: readonly RedemptionAction[],
  expected: readonly boolean[],
  n: number,
): number {
  const quote = (s: string): string => JSON.stringify(s);
  const policies = scope
    .map((e, i) => {
      const path = e.resource.includes('*')
        ? `resource.path like ${quote(e.resource)}`
        : `resource.path == ${quote(e.resource)}`;
      const acts = e.permissions.map((p) => `Action::${quote(p)}`).join(', ');
      return `@id("scope${i}") permit(principal == Executor::${quote(executor)}, action in [${acts}], resource) when { ${path} && context.environment == ${quote(environment)} && [${targets.map(quote).join(', ')}].contains(context.target) };`;
    })
    .join('\n');
  const parsed = preparsePolicySet('warrant', { staticPolicies: policies });
  if (parsed.type !== 'success')
    throw new Error(`cedar policies: ${JSON.stringify(parsed.errors)}`);
  const calls = actions.map((a) => ({
    principal: { type: 'Executor', id: executor },
    action: { type: 'Action', id: a.permission },
    resource: { type: 'Resource', id: a.resource },
    context: { environment: a.environment, target: a.target ?? '' },
    preparsedPolicySetId: 'warrant',
    entities: [
      { uid: { type: 'Resource', id: a.resource }, attrs: { path: a.resource }, parents: [] },
    ],
  }));
  calls.forEach((c, i) => {
    const r = statefulIsAuthorized(c);
    if (r.type !== 'success') throw new Error(`cedar: ${JSON.stringify(r.errors)}`);
    if ((r.response.decision === 'allow') !== expected[i])
      throw new Error(`cedar disagrees on action ${i}`);
  });
  const start = now();
  for (let i = 0; i < n; i++)
    statefulIsAuthorized(calls[i % calls.length] as (typeof calls)[number]);
  return n / seconds(start);
}
