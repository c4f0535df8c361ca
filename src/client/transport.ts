import { CountersignApiError, CountersignClientError } from './errors.js';
import type { HttpMethod } from './types.js';
import { retryAfterMs } from '../core/http-read.js';

/** One HTTP exchange, as {@link send} makes it. */
export interface Exchange {
  readonly fetch: typeof fetch;
  readonly method: HttpMethod;
  readonly url: URL;
  readonly body?: unknown;
  readonly token?: string | undefined;
  readonly userAgent?: string | undefined;
  readonly responseType: 'json' | 'text';
  readonly timeoutMs: number;
  /** The caller's: its abort ends the exchange with the signal's reason, never retried. */
  readonly signal?: AbortSignal | undefined;
}

// RFC 9110 §5.5: a field value is visible ASCII, spaces and tabs. Fetch implementations
// name the offending value in their error, so a bad token is refused here, unnamed.
const HEADER_VALUE = /^[\x21-\x7e]+$/;

function headersFor(x: Exchange): Record<string, string> {
  const headers: Record<string, string> = {
    accept: x.responseType === 'json' ? 'application/json' : 'text/plain, application/json',
  };
  if (x.token) {
    if (!HEADER_VALUE.test(x.token)) {
      throw new TypeError('the bearer token is not a valid HTTP header value');
    }
    headers.authorization = `Bearer ${x.token}`;
  }
  if (x.userAgent) headers['user-agent'] = x.userAgent;
  if (x.body !== undefined) headers['content-type'] = 'application/json';
  return headers;
}

/**
 * Why a connection failed, in words that cannot carry a credential: the system error
 * code (`ECONNREFUSED`) when there is one, else the error's class name. Never its
 * message, which may quote a header.
 */
function reasonOf(e: unknown): string {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 4; depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
    c = c.cause;
  }
  return e instanceof Error ? e.name : 'network error';
}

function errorOf(res: Response, text: string): CountersignApiError {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch {
    // Not a problem document (a proxy's error page): the status is all there is.
  }
  const wait = retryAfterMs(res.headers.get('retry-after'));
  const field = (k: string): string | undefined => {
    const v = typeof p === 'object' && p !== null ? (p as Record<string, unknown>)[k] : undefined;
    return typeof v === 'string' ? v : undefined;
  };
  const code = field('code') ?? `HTTP_${res.status}`;
  const fallback = res.statusText || `HTTP ${res.status}`;
  return new CountersignApiError(
    res.status,
    code,
    field('title') ?? fallback,
    field('detail') ?? fallback,
    wait,
  );
}

/**
 * Makes one attempt: the request, the whole answer read within `timeoutMs`, and the
 * answer parsed. Throws {@link CountersignApiError} for an error status,
 * {@link CountersignClientError} when there is no usable answer, and the signal's
 * reason when the caller aborted.
 */
export async function send<T>(x: Exchange): Promise<T> {
  const where = `${x.method} ${x.url.pathname}`;
  const server = x.url.origin;
  const timeout = AbortSignal.timeout(x.timeoutMs);
  const signal = x.signal ? AbortSignal.any([x.signal, timeout]) : timeout;
  const headers = headersFor(x);
  let res: Response;
  let text: string;
  try {
    res = await x.fetch(x.url, {
      method: x.method,
      headers,
      signal,
      // A redirect would re-send the body (a warrant, a receipt) wherever Location points.
      redirect: 'error',
      ...(x.body === undefined ? {} : { body: JSON.stringify(x.body) }),
    });
    text = await res.text();
  } catch (e) {
    if (x.signal?.aborted) throw x.signal.reason;
    if (timeout.aborted) {
      throw new CountersignClientError('TIMEOUT', `${where}: no answer within ${x.timeoutMs} ms`, {
        cause: e,
        server,
      });
    }
    throw new CountersignClientError('UNREACHABLE', `${where}: ${reasonOf(e)}`, {
      cause: e,
      server,
    });
  }
  if (!res.ok) throw errorOf(res, text);
  if (x.responseType === 'text') return text as T;
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CountersignClientError(
      'BAD_RESPONSE',
      `${where}: answered ${res.status} with a body that is not JSON`,
      { server },
    );
  }
}
