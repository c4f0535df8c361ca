import { REDEMPTION_DENIAL_CODES, type RedemptionDenialCode } from '../core/denials.js';

/**
 * An answer from the server that is an error: its RFC 9457 problem document, with the
 * server's stable `code` (the README's error table lists them). An error status that
 * came without a problem document (a proxy's 502 page) reads as code `HTTP_<status>`.
 * The message is `<code>: <detail>`; the server never puts a credential in a detail.
 */
export class CountersignApiError extends Error {
  override readonly name = 'CountersignApiError';
  /** How long the server asked the caller to wait (`Retry-After`), when it did. */
  readonly retryAfterMs?: number;

  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    retryAfterMs?: number,
  ) {
    super(`${code}: ${detail}`);
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/**
 * - `UNREACHABLE`: no connection, or it broke before an answer.
 * - `TIMEOUT`: an attempt took longer than `timeoutMs`.
 * - `BAD_RESPONSE`: a success status whose body is not what the endpoint answers.
 * - `RECEIPT_INVALID`: a receipt does not verify against the JWKS.
 * - `WAIT_TIMEOUT`: `waitForDecision` gave up before the request was decided.
 */
export type ClientErrorCode =
  'UNREACHABLE' | 'TIMEOUT' | 'BAD_RESPONSE' | 'RECEIPT_INVALID' | 'WAIT_TIMEOUT';

/**
 * No usable answer from the server, or a receipt that does not verify. Messages name
 * what failed and never carry the token, warrant or receipt; `cause` keeps the
 * underlying error for debugging.
 */
export class CountersignClientError extends Error {
  override readonly name = 'CountersignClientError';
  /** The server that gave no usable answer (scheme, host and port), when one was asked. */
  readonly server?: string;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown; server?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.server !== undefined) this.server = options.server;
  }
}

/** The server's redemption denial codes, in the order it checks them. */
export const REDEMPTION_DENIALS = REDEMPTION_DENIAL_CODES;

const DENIALS: ReadonlySet<string> = new Set(REDEMPTION_DENIALS);

/**
 * A redemption the server refused with one of its denial codes: 403, or 400 for
 * `REDEMPTION_MALFORMED` (a body it could not read, recorded as a denial all the same).
 */
export function isRedemptionDenial(
  e: unknown,
): e is CountersignApiError & { code: RedemptionDenialCode } {
  return (
    e instanceof CountersignApiError && e.status >= 400 && e.status < 500 && DENIALS.has(e.code)
  );
}
