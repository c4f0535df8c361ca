/**
 * Which PostgreSQL failures a transaction may be rerun after. Pure: it looks only at
 * the error's SQLSTATE or socket code, and at whether COMMIT had been sent.
 *
 * - `40001` serialization_failure and `40P01` deadlock_detected: the server rolled
 *   the transaction back, so running it again is safe whenever it happened.
 * - `23505` unique_violation: a concurrent transaction inserted the same key first.
 *   The use cases check before they insert (an NHI id, a request digest, a finding
 *   key, a successful fulfilment's receipt, target and phase), so a rerun sees the
 *   winner's row and takes its ordinary path, such as a 409. PostgreSQL reports the
 *   violation only once the winner has committed, so one rerun settles it.
 * - A lost connection (SQLSTATE class `08`, `57P01`–`57P03`, a socket reset) before
 *   COMMIT was sent: the server rolls back a transaction whose session ends. During
 *   COMMIT the outcome is unknown (it may have committed), so it is surfaced instead.
 *
 * @internal
 */
export type RetryVerdict = 'retry' | 'surface';

const ALWAYS = new Set(['40001', '40P01']);
const SOCKET = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN']);
/** pg's own messages for a connection that dropped or never came up; they carry no code. */
const LOST =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect)/;

export const UNIQUE_VIOLATION = '23505';

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the error says the connection to the server was lost or never made. */
export function isConnectionLoss(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined) {
    return code.startsWith('08') || /^57P0[123]$/.test(code) || SOCKET.has(code);
  }
  return error instanceof Error && LOST.test(error.message);
}

/**
 * Whether a transaction that failed with `error` may run again.
 * `committing` is true when the function had returned and COMMIT was in flight.
 */
export function retryVerdict(error: unknown, committing: boolean): RetryVerdict {
  const code = codeOf(error);
  if (code !== undefined && ALWAYS.has(code)) return 'retry';
  if (code === UNIQUE_VIOLATION && !committing) return 'retry';
  if (isConnectionLoss(error) && !committing) return 'retry';
  return 'surface';
}

export interface RetryPolicy {
  /** Most runs of one transaction, the first included. */
  readonly attempts: number;
  /** Most runs when the failure is a unique violation (a lost race resolves in one rerun). */
  readonly uniqueAttempts: number;
  /** First backoff; doubled each time, with full jitter. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  uniqueAttempts: 3,
  baseDelayMs: 10,
  maxDelayMs: 1000,
};

/** The pause before run `attempt + 1` (attempt counts from 1): full-jitter exponential. */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

/** True when run number `attempt` failed with `error` and another run is allowed. */
export function mayRetry(
  policy: RetryPolicy,
  error: unknown,
  committing: boolean,
  attempt: number,
): boolean {
  if (retryVerdict(error, committing) === 'surface') return false;
  const limit = codeOf(error) === UNIQUE_VIOLATION ? policy.uniqueAttempts : policy.attempts;
  return attempt < limit;
}
