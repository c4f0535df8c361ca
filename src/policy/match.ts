import { CountersignError } from '../core/errors.js';
import { patternsOverlap, patternWithin, type Scope } from '../core/scope.js';
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

/** Which rule governs a request's scope, or why none can. */
export type RuleMatch =
  | { readonly kind: 'rule'; readonly rule: PolicyRule }
  | { readonly kind: 'none' }
  | { readonly kind: 'spans'; readonly message: string };

/**
 * The rule a request falls under. Each scope entry is governed by the first rule, in file
 * order, whose environment, NHI kind and action match and whose resource patterns reach
 * any of it (a rule without patterns reaches everything): first match wins, so operators
 * put narrow, strict rules before broad ones. That rule must contain the entry, and every
 * entry must fall under the same rule. Otherwise the scope spans rules: asking for
 * `db/*`, or bundling `db/payments` with another table, would put the payments table
 * under a laxer rule than its own (fewer approvers, a longer window).
 */
export function governingRule(policy: Policy, input: MatchInput): RuleMatch {
  const rules = policy.rules.filter((rule) => attributesMatch(rule, input));
  let chosen: PolicyRule | null = null;
  for (const entry of input.scope) {
    const found = firstReaching(rules, entry.resource);
    if (found === null) return { kind: 'none' };
    const name = entry.resource.slice(0, 128);
    if (!found.whole) {
      return {
        kind: 'spans',
        message: `${name} reaches beyond rule ${found.rule.name}, which governs part of it: name the resources instead`,
      };
    }
    if (chosen !== null && chosen !== found.rule) {
      return {
        kind: 'spans',
        message: `the scope falls under rules ${chosen.name} and ${found.rule.name} (${name}): request them separately`,
      };
    }
    chosen = found.rule;
  }
  return chosen === null ? { kind: 'none' } : { kind: 'rule', rule: chosen };
}

/** The rule {@link governingRule} finds, or null when none does or the scope spans rules. */
export function matchRule(policy: Policy, input: MatchInput): PolicyRule | null {
  const m = governingRule(policy, input);
  return m.kind === 'rule' ? m.rule : null;
}

function attributesMatch(rule: PolicyRule, input: MatchInput): boolean {
  const m = rule.match;
  if (m.environments && !m.environments.includes(input.environment)) return false;
  if (m.nhiKinds && !m.nhiKinds.includes(input.nhiKind)) return false;
  return !m.actions || m.actions.includes(input.action);
}

/** The first rule reaching `resource`, and whether it contains all of it. */
function firstReaching(
  rules: readonly PolicyRule[],
  resource: string,
): { readonly rule: PolicyRule; readonly whole: boolean } | null {
  for (const rule of rules) {
    const patterns = rule.match.resources;
    if (!patterns || patterns.some((p) => patternWithin(resource, p))) return { rule, whole: true };
    if (patterns.some((p) => patternsOverlap(resource, p))) return { rule, whole: false };
  }
  return null;
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
  const m = governingRule(policy, input);
  switch (m.kind) {
    case 'rule':
      return m.rule;
    case 'spans':
      throw new CountersignError<PolicyErrorCode>('SCOPE_SPANS_RULES', m.message);
    case 'none':
      throw new CountersignError<PolicyErrorCode>(
        'NO_MATCHING_POLICY',
        `no policy rule allows ${input.action} on ${input.nhiKind} in ${input.environment} for this scope`,
      );
  }
}
