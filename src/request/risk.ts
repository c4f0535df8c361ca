import type { RequestBody } from './request.js';

/** What an approver should look at twice, in the order the console shows them. */
export const RISK_FLAG_CODES = [
  'PRODUCTION',
  'WILDCARD_SCOPE',
  'WINDOW_NEAR_MAX',
  'USES_NEAR_MAX',
  'FIRST_TIME_RESOURCE',
  'EXECUTOR_IS_PRINCIPAL',
] as const;
export type RiskFlagCode = (typeof RISK_FLAG_CODES)[number];

export interface RiskFlag {
  readonly code: RiskFlagCode;
  readonly message: string;
}

/** The maxima of the rule the request was pinned to, when the server still has that rule. */
export interface RuleLimits {
  readonly maxDurationMs: number;
  readonly maxUses: number;
}

/** A window or a use count at this share of the rule's maximum or more is "near" it. */
export const NEAR_MAX = 0.8;

/** The window's length: its duration, or the span between its two instants. */
export function windowMs(body: Pick<RequestBody, 'durationMs' | 'notBefore' | 'notAfter'>) {
  if (body.durationMs !== undefined) return body.durationMs;
  if (body.notBefore !== undefined && body.notAfter !== undefined) {
    return Date.parse(body.notAfter) - Date.parse(body.notBefore);
  }
  return null;
}

/**
 * The risk flags of a request body. Pure: `limits` is null when the rule that pinned
 * the request is no longer the server's (its maxima are then unknown, and no "near
 * max" flag is raised), and `priorResources` is null when no history was read.
 *
 * `priorResources` holds every scope resource of requests for the same subject that
 * were approved before this one; a resource outside it is a first time.
 */
export function riskFlags(
  body: RequestBody,
  limits: RuleLimits | null,
  priorResources: ReadonlySet<string> | null,
): RiskFlag[] {
  const flags: RiskFlag[] = [];
  if (/^prod/i.test(body.environment)) {
    flags.push({ code: 'PRODUCTION', message: `the environment is ${body.environment}` });
  }
  const wild = body.scope.filter((e) => e.resource.includes('*'));
  if (wild.length > 0) {
    flags.push({
      code: 'WILDCARD_SCOPE',
      message: `the scope names ${wild.length} resource pattern(s) with a wildcard`,
    });
  }
  const span = windowMs(body);
  if (limits && span !== null && span >= NEAR_MAX * limits.maxDurationMs) {
    flags.push({
      code: 'WINDOW_NEAR_MAX',
      message: `the window is ${Math.round((100 * span) / limits.maxDurationMs)}% of the rule's maximum`,
    });
  }
  if (limits && body.maxUses > 1 && body.maxUses >= NEAR_MAX * limits.maxUses) {
    flags.push({
      code: 'USES_NEAR_MAX',
      message: `${body.maxUses} uses of the rule's maximum ${limits.maxUses}`,
    });
  }
  if (priorResources) {
    const fresh = [...new Set(body.scope.map((e) => e.resource))].filter(
      (r) => !priorResources.has(r),
    );
    if (fresh.length > 0) {
      flags.push({
        code: 'FIRST_TIME_RESOURCE',
        message: `first approval of ${fresh.length} resource(s) for this subject`,
      });
    }
  }
  if (body.executor.kind === 'principal') {
    flags.push({
      code: 'EXECUTOR_IS_PRINCIPAL',
      message: `the executor is the principal ${body.executor.principal}, not a workload identity`,
    });
  }
  return flags;
}
