/**
 * The approved time window of a request. It is either absolute (`notBefore` to
 * `notAfter`, as given) or relative: `durationMs` from the moment the warrant is issued
 * (the last approval). A relative window is what `--duration` asks for, so a request
 * approved late is as long as approved, and approvers read "2h from approval".
 */
import { formatDuration } from '../core/duration.js';
import { CountersignError } from '../core/errors.js';
import type { PolicyErrorCode, PolicyRule } from '../policy/policy.js';
import type { RequestBody, RequestErrorCode } from './request.js';

/** What the body pins: one of the two shapes. */
export type PinnedWindow =
  { readonly notBefore: string; readonly notAfter: string } | { readonly durationMs: number };

/** The window a warrant issued at some instant carries. */
export interface ConcreteWindow {
  readonly notBefore: string;
  readonly notAfter: string;
}

export interface WindowInput {
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly durationMs?: number;
}

const MAX_CLOCK_SKEW_MS = 5 * 60_000;

function windowError(message: string): CountersignError<RequestErrorCode> {
  return new CountersignError('REQUEST_WINDOW_INVALID', message);
}

export function limitExceeded(
  rule: PolicyRule,
  message: string,
  bound: Record<string, number>,
): CountersignError<PolicyErrorCode> {
  return new CountersignError('POLICY_LIMIT_EXCEEDED', `${message} of rule ${rule.name}`, {
    details: { rule: rule.name, ...bound },
  });
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * RFC 3339 only, with an explicit offset: `Date.parse` alone would read a missing
 * offset in the server's zone and roll 29 February into March.
 */
function parseInstant(text: string, field: string): Date {
  const m = RFC3339.exec(text);
  const t = Date.parse(text);
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0] = (m ?? []).slice(1, 7).map(Number);
  const calendarDay = new Date(Date.UTC(y, mo - 1, d)).getUTCDate();
  if (!m || Number.isNaN(t) || calendarDay !== d || h > 23 || mi > 59 || s > 59) {
    throw windowError(`${field} must be an RFC 3339 timestamp with an offset`);
  }
  return new Date(t);
}

function checkSpan(span: number, rule: PolicyRule): void {
  if (span <= 0) throw windowError('notAfter must be after notBefore');
  if (span > rule.maxDurationMs) {
    throw limitExceeded(rule, 'window exceeds the maximum duration', {
      maxDurationMs: rule.maxDurationMs,
    });
  }
}

/**
 * Validates the requested window against the rule and returns what the body pins,
 * with the instant after which waiting for approval makes no sense (the end of an
 * absolute window; none for a relative one).
 */
export function pinWindow(
  input: WindowInput,
  rule: PolicyRule,
  now: Date,
): { readonly window: PinnedWindow; readonly latestDecision: number | null } {
  if ((input.notAfter === undefined) === (input.durationMs === undefined)) {
    throw windowError('give exactly one of duration or notAfter');
  }
  const duration = input.durationMs;
  if (duration !== undefined && !(Number.isSafeInteger(duration) && duration > 0)) {
    throw windowError('duration must be a positive number of milliseconds');
  }
  if (input.notBefore === undefined && duration !== undefined) {
    checkSpan(duration, rule);
    return { window: { durationMs: duration }, latestDecision: null };
  }
  const notBefore = input.notBefore ? parseInstant(input.notBefore, 'notBefore') : now;
  if (notBefore.getTime() < now.getTime() - MAX_CLOCK_SKEW_MS) {
    throw windowError('notBefore lies in the past');
  }
  if (notBefore.getTime() - now.getTime() > rule.maxLeadTimeMs) {
    throw limitExceeded(rule, 'notBefore lies further ahead than the maximum lead time', {
      maxLeadTimeMs: rule.maxLeadTimeMs,
    });
  }
  const notAfter =
    input.notAfter !== undefined
      ? parseInstant(input.notAfter, 'notAfter')
      : new Date(notBefore.getTime() + (duration as number));
  checkSpan(notAfter.getTime() - notBefore.getTime(), rule);
  return {
    window: { notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString() },
    latestDecision: notAfter.getTime(),
  };
}

/** The window of a warrant issued at `issuedAt` for this body. */
export function windowAt(body: RequestBody, issuedAt: Date): ConcreteWindow {
  if (body.durationMs !== undefined) {
    return {
      notBefore: issuedAt.toISOString(),
      notAfter: new Date(issuedAt.getTime() + body.durationMs).toISOString(),
    };
  }
  return { notBefore: body.notBefore ?? issuedAt.toISOString(), notAfter: body.notAfter ?? '' };
}

/** The window as an approver reads it: `2h from approval`, or `T1 to T2`. */
export function windowText(w: {
  readonly notBefore?: string | null;
  readonly notAfter?: string | null;
  readonly durationMs?: number | null;
}): string {
  if (typeof w.durationMs === 'number') return `${formatDuration(w.durationMs)} from approval`;
  return `${w.notBefore ?? '?'} to ${w.notAfter ?? '?'}`;
}
