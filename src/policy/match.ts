import { CountersignError } from '../core/errors.js';
import { patternWithin, type Scope } from '../core/scope.js';
import type { NhiKind } from '../core/vocabulary.js';
import type { RequestAction } from '../core/vocabulary.js';
import type { Policy, PolicyErrorCode, PolicyRule } from './policy.js';

export interface MatchInput {
  readonly environment: string;
  readonly nhiKind: NhiKind;
  readonly action: RequestAction;
  readonly scope: Scope;
}

/**
 * Whether the policy declares `environment`. Exact and case-sensitive on purpose: a
 * variant spelling names no environment, so it is refused rather than matched loosely.
 */
export function declaresEnvironment(policy: Policy, environment: string): boolean {
  return policy.environments.includes(environment);
}

/**
 * The first rule, in file order, whose environment, NHI kind and action match and
 * whose resource patterns contain every scope entry. First match wins so that
 * operators can put narrow, strict rules before broad ones.
 */
export function matchRule(policy: Policy, input: MatchInput): PolicyRule | null {
  return policy.rules.find((rule) => ruleMatches(rule, input)) ?? null;
}

function ruleMatches(rule: PolicyRule, input: MatchInput): boolean {
  const m = rule.match;
  if (m.environments && !m.environments.includes(input.environment)) return false;
  if (m.nhiKinds && !m.nhiKinds.includes(input.nhiKind)) return false;
  if (m.actions && !m.actions.includes(input.action)) return false;
  const patterns = m.resources;
  if (patterns) {
    return input.scope.every((e) => patterns.some((p) => patternWithin(e.resource, p)));
  }
  return true;
}

/**
 * The rule a request falls under. Refuses an environment the policy does not declare
 * (`ENVIRONMENT_UNKNOWN`) before any rule is tried, then a request no rule matches
 * (`NO_MATCHING_POLICY`).
 */
export function selectRule(policy: Policy, input: MatchInput): PolicyRule {
  if (!declaresEnvironment(policy, input.environment)) {
    throw new CountersignError<PolicyErrorCode>(
      'ENVIRONMENT_UNKNOWN',
      `environment ${input.environment.slice(0, 64)} is not declared by the policy`,
      { details: { declared: policy.environments } },
    );
  }
  const rule = matchRule(policy, input);
  if (!rule) {
    throw new CountersignError<PolicyErrorCode>(
      'NO_MATCHING_POLICY',
      `no policy rule allows ${input.action} on ${input.nhiKind} in ${input.environment} for this scope`,
    );
  }
  return rule;
}
