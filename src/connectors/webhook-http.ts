import { setTimeout as delay } from 'node:timers/promises';
import type { CountersignError } from '../core/errors.js';
import { connectorError, redact, type ConnectorErrorCode } from './connector.js';
import { readCapped, retryAfterMs } from '../core/http-read.js';

/**
 * One call of the webhook connector over HTTP, retried while the failure says "not
 * now": no connection, no answer in time, 408, 429 or 5xx. Every attempt sends the same
 * bytes under the same `Idempotency-Key`, so a receiver that saw an earlier attempt
 * answers it again instead of acting twice. The whole call has a deadline, because a
 * redemption waits for its grant.
 *
 * Nothing a receiver sends back is quoted in an error: its body may echo the bearer
 * token or hold the credential. Errors name the connector, the operation and the status.
 */

/** Where time and the network come from; tests replace every one of them. */
export interface HttpDeps {
  readonly fetch: typeof fetch;
  /** Waits between attempts; rejects when the signal aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Monotonic milliseconds, for the deadline (never the wall clock, which may jump). */
  readonly monotonicMs: () => number;
  /** In [0, 1): the jitter of the backoff. */
  readonly random: () => number;
}

export const defaultHttpDeps: HttpDeps = {
  fetch: (input, init) => fetch(input, init),
  sleep: (ms, signal) => delay(ms, undefined, { signal }),
  monotonicMs: () => performance.now(),
  random: Math.random,
};

export interface Exchange {
  readonly connector: string;
  /** `grant`, `revoke` or `observe`: named in errors. */
  readonly operation: string;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** A status that ends the call as an answer; anything else is retried or refused. */
  readonly accept: (status: number) => boolean;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly deadlineMs: number;
  readonly maxBytes: number;
  /** Aborted when the connector closes. */
  readonly signal: AbortSignal;
  /** Redacted from anything a lower layer's message might carry (the bearer token). */
  readonly secrets: readonly string[];
}

export interface Answer {
  readonly status: number;
  readonly text: string;
}

/** Backoff: full jitter below a ceiling doubling from 250 ms up to 2 s. */
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 2_000;
/** The longest `Retry-After` waited out; a receiver asking for more fails the call. */
export const MAX_RETRY_AFTER_MS = 5_000;

type Attempt =
  | { readonly kind: 'answer'; readonly answer: Answer }
  | { readonly kind: 'retry'; readonly why: string; readonly retryAfterMs?: number }
  | { readonly kind: 'fail'; readonly why: string; readonly status?: number };

/** Sends `x` until it is answered, refused for good, out of attempts, or out of time. */
export async function exchange(x: Exchange, deps: HttpDeps): Promise<Answer> {
  const started = deps.monotonicMs();
  const left = () => x.deadlineMs - (deps.monotonicMs() - started);
  let why = 'no attempt was made';
  let made = 0;
  while (made < x.maxAttempts && left() > 0) {
    const out = await attempt(x, deps, Math.min(x.timeoutMs, left()));
    made += 1;
    if (out.kind === 'answer') return out.answer;
    if (out.kind === 'fail') throw failure(x, out.why, made, out.status);
    why = out.why;
    if (made === x.maxAttempts) break;
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (made - 1));
    const wait = out.retryAfterMs ?? Math.floor(deps.random() * ceiling);
    if (wait > MAX_RETRY_AFTER_MS) {
      throw failure(x, `${why}, and asked for a retry after ${Math.ceil(wait / 1000)} s`, made);
    }
    if (wait >= left()) break;
    try {
      await deps.sleep(wait, x.signal);
    } catch {
      throw failure(x, 'the connector was closed', made);
    }
  }
  throw failure(x, `${why} (gave up after ${made} of ${x.maxAttempts} attempts)`, made);
}

async function attempt(x: Exchange, deps: HttpDeps, timeoutMs: number): Promise<Attempt> {
  if (x.signal.aborted) return { kind: 'fail', why: 'the connector was closed' };
  const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
  const signal = AbortSignal.any([x.signal, timeout]);
  let res: Response;
  let text: string | null;
  try {
    res = await deps.fetch(x.url, {
      method: x.method,
      headers: x.headers,
      signal,
      // A redirect would carry the signed body and the bearer token wherever it points.
      redirect: 'error',
      ...(x.body === undefined ? {} : { body: x.body }),
    });
    text = await readCapped(res, x.maxBytes);
  } catch (e) {
    if (x.signal.aborted) return { kind: 'fail', why: 'the connector was closed' };
    if (timeout.aborted) return { kind: 'retry', why: `no answer within ${timeoutMs} ms` };
    return { kind: 'retry', why: `connection failed${networkCode(e)}` };
  }
  if (text === null) {
    return { kind: 'fail', why: `answered more than ${x.maxBytes} bytes`, status: res.status };
  }
  if (x.accept(res.status)) return { kind: 'answer', answer: { status: res.status, text } };
  const why = `answered HTTP ${res.status}`;
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    const after = retryAfterMs(res.headers.get('retry-after'));
    return after === undefined
      ? { kind: 'retry', why }
      : { kind: 'retry', why, retryAfterMs: after };
  }
  return { kind: 'fail', why, status: res.status };
}

/** ` (ECONNREFUSED)` from undici's cause, when it carries a plain system code. */
function networkCode(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown } } | null)?.cause;
  const code = cause?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? ` (${code})` : '';
}

function failure(
  x: Exchange,
  why: string,
  attempts?: number,
  status?: number,
): CountersignError<ConnectorErrorCode> {
  return connectorError(
    'CONNECTOR_FAILED',
    redact(`connector "${x.connector}": ${x.operation} failed: ${why}`, x.secrets),
    {
      connector: x.connector,
      operation: x.operation,
      ...(attempts === undefined ? {} : { attempts }),
      ...(status === undefined ? {} : { status }),
    },
  );
}
