/**
 * What the client sends and receives, typed from the server's own definitions: the
 * bodies are the TypeBox schemas the server validates against (`Static<typeof …>`),
 * the answers are the service's view types. Every import here is `import type`, so
 * none of the server's code reaches a browser bundle.
 */
import type { Static } from '@sinclair/typebox';
import type { JSONWebKeySet } from 'jose';
import type { Fulfilment } from '../fulfilment/fulfilment.js';
import type {
  CreateRequestBody,
  DecisionBody,
  FulfilmentBody,
  ObservationsBody,
  RedemptionBody,
} from '../http/schemas.js';
import type { DecideResult } from '../service/decide.js';
import type { ObserveResult } from '../service/observe.js';
import type { RequestSummary, RequestView, WarrantView } from '../service/queries.js';
import type { RedeemAllowed as ServerRedeemAllowed } from '../service/redeem.js';
import type { DryRunAllowed } from '../service/redeem-dry-run.js';

export type { JSONWebKeySet } from 'jose';
export type { ReceiptClaims } from '../redemption/receipt.js';
export type { WarrantClaims } from '../warrant/warrant.js';
import type { RequestState } from '../request/request.js';
export type { RequestState };
export type { DecideResult, ObserveResult, RequestSummary, RequestView, WarrantView };

/** A bearer credential, or a function called before every attempt for a fresh one. */
export type TokenSource = string | (() => string | Promise<string>);

export interface RetryOptions {
  /** Attempts in all, the first included (default 3; 1 turns retries off). */
  readonly attempts?: number;
  /** The first backoff's ceiling; each retry doubles it, with full jitter (default 100). */
  readonly baseDelayMs?: number;
  /** The ceiling of any one backoff (default 2000). */
  readonly maxDelayMs?: number;
}

export interface ClientOptions {
  /** The server, e.g. `http://127.0.0.1:8470`. */
  readonly baseUrl: string | URL;
  /**
   * The bearer credential. A function is called for every attempt, since a workload's
   * OIDC token (GitHub Actions, Kubernetes) may be single-use.
   */
  readonly token?: TokenSource | undefined;
  /** Injectable for tests and custom agents; the global `fetch` otherwise. */
  readonly fetch?: typeof fetch;
  /** How long one attempt may take, answer body included (default 10 000 ms). */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  /** A pinned JWKS for {@link CountersignClient.verifyReceipt}; otherwise fetched and cached. */
  readonly jwks?: JSONWebKeySet;
  /** Sent as `user-agent` where the platform allows it (not in browsers). */
  readonly userAgent?: string;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  /**
   * Marks a call safe to send twice, so it is retried like a GET. A redemption decides
   * this itself (a dry run or an idempotency key), and ignores the flag.
   */
  readonly idempotent?: boolean;
}

export interface RequestOptions extends CallOptions {
  /** `text` for the endpoints that answer `text/plain` (the log checkpoint). Default `json`. */
  readonly responseType?: 'json' | 'text';
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export type RedeemInput = Static<typeof RedemptionBody>;
/** What `listRequests` narrows by; `limit` is at most 999 (the server's default is 100). */
export interface ListRequestsFilter {
  readonly state?: RequestState;
  readonly subject?: string;
  readonly action?: CreateRequestInput['action'];
  readonly limit?: number;
}
export type CreateRequestInput = Static<typeof CreateRequestBody>;
export type DecisionInput = Static<typeof DecisionBody>;
export type FulfilInput = Static<typeof FulfilmentBody>;
export type ObserveInput = Static<typeof ObservationsBody>;

/** An allowed redemption: the signed receipt (a compact JWS) and the warrant's count. */
export type RedeemAllowed = ServerRedeemAllowed;
/** The verdict of a dry run: allowed, with nothing spent, signed or recorded. */
export type RedeemDryRun = DryRunAllowed;
/** A recorded fulfilment report, as the server stored it. */
export type FulfilmentView = Fulfilment;

export interface WaitOptions {
  readonly signal?: AbortSignal;
  /** Between two polls (default 2000 ms). */
  readonly intervalMs?: number;
  /** How long to wait in all before `WAIT_TIMEOUT` (default 15 minutes). */
  readonly timeoutMs?: number;
}
