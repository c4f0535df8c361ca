import { CountersignApiError, CountersignClientError } from './errors.js';
import type { RetryOptions } from './types.js';

export interface RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 100, maxDelayMs: 2000 };

/**
 * The longest `Retry-After` the client waits out itself. A server asking for more is
 * answered with its error (carrying `retryAfterMs`), for the caller to decide.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

export function retryPolicy(o: RetryOptions = {}): RetryPolicy {
  const whole = (v: number | undefined, fallback: number, min: number) =>
    v === undefined || !Number.isFinite(v) ? fallback : Math.max(min, Math.floor(v));
  return {
    attempts: whole(o.attempts, DEFAULT_RETRY.attempts, 1),
    baseDelayMs: whole(o.baseDelayMs, DEFAULT_RETRY.baseDelayMs, 0),
    maxDelayMs: whole(o.maxDelayMs, DEFAULT_RETRY.maxDelayMs, 0),
  };
}

/** Statuses that say "not now" rather than "no": overload, and a gateway's failures. */
const TRANSIENT_STATUS: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * How long to wait before retrying after `e` on attempt `attempt` (0-based), or null
 * when `e` is not worth a retry. Backoff is "full jitter" (a uniform draw below the
 * doubled ceiling), so that clients shed by one overload do not return in step.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  e: unknown,
  random: () => number = Math.random,
): number | null {
  const transient =
    (e instanceof CountersignClientError && (e.code === 'UNREACHABLE' || e.code === 'TIMEOUT')) ||
    (e instanceof CountersignApiError && TRANSIENT_STATUS.has(e.status));
  if (!transient) return null;
  if (e instanceof CountersignApiError && e.retryAfterMs !== undefined) {
    return e.retryAfterMs > MAX_RETRY_AFTER_MS ? null : e.retryAfterMs;
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  // Rejects with the reason as given, like fetch does: the platform's is a DOMException,
  // a caller's `abort(reason)` is theirs to choose.
  return new Promise((ok, fail) => {
    if (signal?.aborted) {
      fail(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      fail(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      ok();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the policy's attempts are spent.
 * A call that is not idempotent is made exactly once: a redemption that timed out may
 * have spent a use, and only an idempotency key makes sending it again safe.
 */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  o: { readonly idempotent: boolean; readonly policy: RetryPolicy; readonly signal?: AbortSignal },
): Promise<T> {
  const attempts = o.idempotent ? o.policy.attempts : 1;
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      const delay = i + 1 < attempts ? retryDelay(o.policy, i, e) : null;
      if (delay === null) throw e;
      await sleep(delay, o.signal);
    }
  }
}
