import type { JSONWebKeySet } from 'jose';
import type { ReceiptClaims } from '../redemption/receipt.js';
import { CountersignClientError } from './errors.js';
import { JwksCache, verifyReceipt } from './receipt.js';
import { retryPolicy, withRetries, type RetryPolicy } from './retry.js';
import { send } from './transport.js';
import type {
  CallOptions,
  ClientOptions,
  CreateRequestInput,
  DecideResult,
  DecisionInput,
  FulfilInput,
  FulfilmentView,
  HttpMethod,
  ListRequestsFilter,
  ObserveInput,
  ObserveResult,
  RedeemAllowed,
  RedeemDryRun,
  RedeemInput,
  RequestOptions,
  RequestSummary,
  RequestView,
  TokenSource,
  WaitOptions,
  WarrantView,
} from './types.js';
import { waitForDecision } from './wait.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

const segment = (id: string): string => encodeURIComponent(id);

/**
 * countersign's HTTP API, typed: one client for scripts, executors, the CLI and the
 * browser. Idempotent calls (GETs, dry runs, redemptions with an idempotency key) are
 * retried on network errors, timeouts, 429 and 502–504; anything else is sent once.
 * Errors carry the server's stable codes ({@link CountersignApiError}) or say why
 * there was no answer ({@link CountersignClientError}).
 *
 * @example
 * ```ts
 * const cs = new CountersignClient({ baseUrl: 'https://countersign.example', token });
 * const req = await cs.createRequest({ subject, action: 'grant', scope, environment: 'prod',
 *   executor: { principal: 'deploy-eu' }, duration: '1h', reason: 'INC-42' });
 * const decided = await cs.waitForDecision(req.id);
 * ```
 */
export class CountersignClient {
  readonly #base: URL;
  readonly #token: TokenSource | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #userAgent: string | undefined;
  readonly #jwks: JSONWebKeySet | undefined;
  readonly #cache: JwksCache;

  constructor(o: ClientOptions) {
    this.#base = new URL(o.baseUrl);
    this.#token = o.token;
    // Called through a closure: a browser's fetch refuses to run with another `this`.
    const f = o.fetch;
    this.#fetch = f ? (input, init) => f(input, init) : (input, init) => fetch(input, init);
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#retry = retryPolicy(o.retry);
    this.#userAgent = o.userAgent;
    this.#jwks = o.jwks;
    this.#cache = new JwksCache(() => this.#fetchJwks());
  }

  /** The server's address, as given. */
  get baseUrl(): string {
    return this.#base.href;
  }

  /** `path` below the base URL (which may itself have a path, behind a proxy). */
  #url(path: string): URL {
    if (!path.startsWith('/')) throw new TypeError(`a path starts with '/': ${path}`);
    const url = new URL(this.#base.pathname.replace(/\/$/, '') + path, this.#base);
    // `//host/x` and `/\host/x` resolve to another host: the token must not go there.
    if (url.origin !== this.#base.origin) {
      throw new TypeError(`a path stays on the server: ${path}`);
    }
    return url;
  }

  async #tokenNow(): Promise<string | undefined> {
    const t = this.#token;
    return typeof t === 'function' ? await t() : t;
  }

  async #call<T>(
    method: HttpMethod,
    path: string,
    body: unknown,
    o: RequestOptions & { readonly anonymous?: boolean },
  ): Promise<T> {
    const url = this.#url(path);
    return withRetries(
      async () =>
        send<T>({
          fetch: this.#fetch,
          method,
          url,
          body,
          token: o.anonymous ? undefined : await this.#tokenNow(),
          userAgent: this.#userAgent,
          responseType: o.responseType ?? 'json',
          timeoutMs: this.#timeoutMs,
          signal: o.signal,
        }),
      {
        idempotent: o.idempotent ?? method === 'GET',
        policy: this.#retry,
        ...(o.signal ? { signal: o.signal } : {}),
      },
    );
  }

  /**
   * Any endpoint: the call every typed method makes. GETs are retried; other methods
   * only with `{ idempotent: true }`. `path` is below the base URL, query included.
   */
  request<T>(method: HttpMethod, path: string, body?: unknown, o: RequestOptions = {}): Promise<T> {
    return this.#call<T>(method, path, body, o);
  }

  /**
   * Redeems a warrant for one concrete action (`POST /v1/redemptions`). Sent exactly
   * once unless it is a dry run or carries an `idempotencyKey`: a retry of a plain
   * redemption could spend a second use. A refusal is a {@link CountersignApiError}
   * with the denial code (see `isRedemptionDenial`).
   */
  redeem(input: RedeemInput & { dryRun: true }, o?: CallOptions): Promise<RedeemDryRun>;
  redeem(input: RedeemInput, o?: CallOptions): Promise<RedeemAllowed>;
  redeem(input: RedeemInput, o: CallOptions = {}): Promise<RedeemAllowed | RedeemDryRun> {
    const idempotent = input.dryRun === true || input.idempotencyKey !== undefined;
    return this.#call('POST', '/v1/redemptions', input, { ...o, idempotent });
  }

  /** Reports what the executor did at one target under a receipt (`POST /v1/fulfilments`). */
  fulfil(input: FulfilInput, o: CallOptions = {}): Promise<FulfilmentView> {
    return this.#call('POST', '/v1/fulfilments', input, o);
  }

  /** Records a collector's observations, all or nothing (`POST /v1/observations`). */
  observe(input: ObserveInput, o: CallOptions = {}): Promise<ObserveResult> {
    return this.#call('POST', '/v1/observations', input, o);
  }

  /** Creates an approval request (`POST /v1/requests`); resolves to it, pending. */
  createRequest(input: CreateRequestInput, o: CallOptions = {}): Promise<RequestView> {
    return this.#call('POST', '/v1/requests', input, o);
  }

  /** Requests, newest first, narrowed by state, subject (the NHI) and action. */
  listRequests(filter: ListRequestsFilter = {}, o: CallOptions = {}): Promise<RequestSummary[]> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) q.set(k, String(v));
    const query = q.size > 0 ? `?${q.toString()}` : '';
    return this.#call<{ requests: RequestSummary[] }>(
      'GET',
      `/v1/requests${query}`,
      undefined,
      o,
    ).then((r) => r.requests);
  }

  getRequest(id: string, o: CallOptions = {}): Promise<RequestView> {
    return this.#call('GET', `/v1/requests/${segment(id)}`, undefined, o);
  }

  /** Approves or denies a request as the caller (`POST /v1/requests/:id/decisions`). */
  decide(id: string, input: DecisionInput, o: CallOptions = {}): Promise<DecideResult> {
    return this.#call('POST', `/v1/requests/${segment(id)}/decisions`, input, o);
  }

  /** The warrant an approved request issued, with its token (`GET /v1/requests/:id/warrant`). */
  getWarrant(requestId: string, o: CallOptions = {}): Promise<WarrantView> {
    return this.#call('GET', `/v1/requests/${segment(requestId)}/warrant`, undefined, o);
  }

  /**
   * Polls the request until it is no longer pending. Rejects with
   * {@link CountersignClientError} `WAIT_TIMEOUT` after `timeoutMs`, or with the
   * signal's reason when it aborts.
   */
  waitForDecision(id: string, o: WaitOptions = {}): Promise<RequestView> {
    return waitForDecision((rid, call) => this.getRequest(rid, call), id, o);
  }

  /**
   * Verifies a receipt against `o.jwks`, the client's pinned JWKS, or the server's
   * JWKS fetched once and cached (refetched on an unknown kid, at most once a minute).
   * Rejects with {@link CountersignClientError} `RECEIPT_INVALID`.
   */
  verifyReceipt(jws: string, o: { jwks?: JSONWebKeySet } = {}): Promise<ReceiptClaims> {
    const pinned = o.jwks ?? this.#jwks;
    return pinned ? verifyReceipt(jws, { jwks: pinned }) : this.#cache.verify(jws);
  }

  async #fetchJwks(): Promise<JSONWebKeySet> {
    const jwks = await this.#call<unknown>('GET', '/.well-known/jwks.json', undefined, {
      anonymous: true,
    });
    const keys = (jwks as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) {
      throw new CountersignClientError('BAD_RESPONSE', 'GET /.well-known/jwks.json: not a JWKS', {
        server: this.#base.origin,
      });
    }
    return jwks as JSONWebKeySet;
  }
}
