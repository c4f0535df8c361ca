import { systemClock, type Clock } from '../core/clock.js';
import { OUTBOUND_URL_PROBLEM_TEXT, outboundUrlProblem } from '../core/outbound-url.js';
import {
  CONNECTOR_CALL_PAYLOAD_TYPE,
  connectorCallBytes,
  connectorCallKey,
  type ConnectorCall,
} from '../core/connector-call.js';
import {
  assertGrantRequest,
  connectorError,
  credentialFingerprint,
  isGrantId,
  type Connector,
  type ConnectorObservation,
  type Grant,
  type GrantRequest,
} from './connector.js';
import {
  ObserveAnswerSchema,
  readAnswer,
  readGrantAnswer,
  toObservations,
} from './webhook-answers.js';
import { defaultHttpDeps, exchange, type Exchange, type HttpDeps } from './webhook-http.js';

/**
 * The webhook connector: for a system countersign has no connector for, grant and
 * revoke are POSTs of a signed call to a URL the receiver serves. The body is a DSSE
 * envelope over the call's canonical JSON (`core/connector-call.ts`), signed with the
 * server's active key, so the receiver checks it against the server's public JWKS
 * (`verifyConnectorCall` in `countersign/verify`). An optional bearer token lets the
 * receiver refuse anyone else before it parses anything.
 *
 * The handle is the grant id itself, known before the receiver answers: a grant whose
 * answer was lost is revoked by the same id the receiver was asked to grant under.
 */

export interface WebhookConnectorConfig {
  /** The connector's name: the second segment of its resources, `<kind>/<name>/…`. */
  readonly name: string;
  /** Where grant and revoke calls are POSTed: https (http to loopback alone), no userinfo. */
  readonly url: string;
  /** Where `observe()` GETs the target's state; without it, observe reports nothing. */
  readonly observeUrl?: string;
  /** Sent as `Authorization: Bearer …`. Secret: never logged, never in an error. */
  readonly token?: string;
  /** One attempt's limit. Default 5 s. */
  readonly timeoutMs?: number;
  /** Attempts per call. Default 3. */
  readonly maxAttempts?: number;
}

/** The envelope DSSE defines (envelope.md), as `evidence/dsse.ts` writes it. */
export interface SignedEnvelope {
  readonly payloadType: string;
  readonly payload: string;
  readonly signatures: readonly { readonly keyid: string; readonly sig: string }[];
}

/** Signs `payload` as a DSSE envelope with the server's active key. */
export type SealCall = (
  payloadType: string,
  payload: Uint8Array,
) => SignedEnvelope | Promise<SignedEnvelope>;

export interface WebhookDeps {
  readonly seal: SealCall;
  readonly clock?: Clock;
  readonly http?: Partial<HttpDeps>;
  /** The whole call's limit, retries included: a redemption waits for its grant. Default 10 s. */
  readonly deadlineMs?: number;
}

export const DSSE_CONTENT_TYPE = 'application/vnd.dsse+json';
const CALL_BYTES = 64 * 1024;
const OBSERVE_BYTES = 4 * 1024 * 1024;

/**
 * Why `url` cannot be a webhook URL, or null. Every call carries the bearer token and a
 * grant's answer carries the credential, so plain http is for loopback receivers alone;
 * and secrets never ride in a URL's userinfo.
 */
export function webhookUrlProblem(url: string): string | null {
  const problem = outboundUrlProblem(url, 'loopback');
  if (problem === null) return null;
  const text = OUTBOUND_URL_PROBLEM_TEXT[problem];
  return problem === 'userinfo' ? `${text}; give the token by tokenFile or tokenEnv` : text;
}

export function webhookConnector(config: WebhookConnectorConfig, deps: WebhookDeps): Connector {
  for (const [field, url] of [
    ['url', config.url],
    ['observeUrl', config.observeUrl],
  ] as const) {
    const problem = url === undefined ? null : webhookUrlProblem(url);
    if (problem !== null) {
      throw connectorError(
        'CONNECTOR_SCOPE_INVALID',
        `connector "${config.name}": ${field} ${problem}`,
      );
    }
  }
  return new WebhookConnector(config, deps);
}

class WebhookConnector implements Connector {
  readonly name: string;
  readonly #c: WebhookConnectorConfig;
  readonly #seal: SealCall;
  readonly #clock: Clock;
  readonly #http: HttpDeps;
  readonly #deadlineMs: number;
  readonly #closed = new AbortController();

  constructor(config: WebhookConnectorConfig, deps: WebhookDeps) {
    this.name = config.name;
    this.#c = config;
    this.#seal = deps.seal;
    this.#clock = deps.clock ?? systemClock;
    this.#http = { ...defaultHttpDeps, ...deps.http };
    this.#deadlineMs = deps.deadlineMs ?? 10_000;
  }

  handleFor(grantId: string): string {
    return grantId;
  }

  async grant(req: GrantRequest): Promise<Grant> {
    assertGrantRequest(this.name, req, this.#clock);
    for (const e of req.scope) {
      const parts = e.resource.split('/');
      if (parts[1] !== this.name || parts.includes('*')) {
        throw connectorError(
          'CONNECTOR_SCOPE_INVALID',
          `connector "${this.name}": ${JSON.stringify(e.resource.slice(0, 200))} is not a concrete resource of it`,
          { connector: this.name },
        );
      }
    }
    const handle = this.handleFor(req.grantId);
    const answer = await this.#call({
      ...this.#base('grant', req.grantId, handle),
      op: 'grant',
      subject: req.subject,
      // Only what the port names: a scope entry's argument constraints are not the receiver's.
      scope: req.scope.map((e) => ({ resource: e.resource, permissions: [...e.permissions] })),
      notAfter: req.notAfter.toISOString(),
    });
    const { credential, handle: theirs } = readGrantAnswer(this.name, answer);
    // A receiver that names its grant otherwise would be asked to revoke a handle it does
    // not know (revoke sends countersign's handle, stored before the grant was asked for):
    // refusing now revokes at once, instead of leaving access behind at the window's end.
    if (theirs !== undefined && theirs !== handle) {
      throw connectorError(
        'CONNECTOR_FAILED',
        `connector "${this.name}": grant failed: the receiver answered another handle than the grant id`,
        { connector: this.name, operation: 'grant' },
      );
    }
    const minted = Object.fromEntries(Object.entries(credential));
    return { credential: minted, fingerprint: credentialFingerprint(minted), handle };
  }

  async revoke(handle: string): Promise<void> {
    if (!isGrantId(handle)) {
      throw connectorError(
        'CONNECTOR_SCOPE_INVALID',
        `connector "${this.name}": not a handle of it`,
        {
          connector: this.name,
        },
      );
    }
    // Gone already (404, 410) is what revoke asks for: revoking twice succeeds.
    await this.#call(
      { ...this.#base('revoke', handle, handle), op: 'revoke' },
      (status) => status === 404 || status === 410,
    );
  }

  async observe(): Promise<ConnectorObservation[]> {
    const url = this.#c.observeUrl;
    if (url === undefined) return [];
    const answer = await exchange(
      this.#exchange('observe', url, { accept: 'application/json' }, undefined, OBSERVE_BYTES),
      this.#http,
    );
    return toObservations(
      this.name,
      readAnswer(this.name, 'observe', answer.text, ObserveAnswerSchema),
    );
  }

  close(): Promise<void> {
    // Calls in flight end now, as failures: nothing waits on a closed connector.
    this.#closed.abort();
    return Promise.resolve();
  }

  #base<Op extends ConnectorCall['op']>(op: Op, grantId: string, handle: string) {
    return {
      v: 1 as const,
      connector: this.name,
      grantId,
      handle,
      issuedAt: this.#clock.now().toISOString(),
      idempotencyKey: connectorCallKey(grantId, op),
    };
  }

  /** Signs `call` once and POSTs it until answered; the answer's text for a 2xx. */
  async #call(
    call: ConnectorCall,
    alsoDone: (status: number) => boolean = () => false,
  ): Promise<string> {
    const envelope = await this.#seal(CONNECTOR_CALL_PAYLOAD_TYPE, connectorCallBytes(call));
    const headers = {
      'content-type': DSSE_CONTENT_TYPE,
      accept: 'application/json',
      'idempotency-key': call.idempotencyKey,
    };
    const answer = await exchange(
      this.#exchange(call.op, this.#c.url, headers, JSON.stringify(envelope), CALL_BYTES, alsoDone),
      this.#http,
    );
    return answer.text;
  }

  #exchange(
    operation: string,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    maxBytes: number,
    alsoDone: (status: number) => boolean = () => false,
  ): Exchange {
    const token = this.#c.token;
    return {
      connector: this.name,
      operation,
      method: body === undefined ? 'GET' : 'POST',
      url,
      headers: token === undefined ? headers : { ...headers, authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { body }),
      accept: (status) => (status >= 200 && status < 300) || alsoDone(status),
      timeoutMs: this.#c.timeoutMs ?? 5_000,
      maxAttempts: this.#c.maxAttempts ?? 3,
      deadlineMs: this.#deadlineMs,
      maxBytes,
      signal: this.#closed.signal,
      secrets: token === undefined ? [] : [token],
    };
  }
}
