import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../core/clock.js';
import {
  backoffMs,
  MAX_ATTEMPTS,
  SIGNATURE_HEADER,
  signDelivery,
  type WebhookTarget,
} from '../service/webhooks.js';
import type { Store } from '../service/ports/store.js';
import type { WebhookFailure, WebhookObserver } from '../http/metrics/registry.js';

/**
 * How long a claimed delivery waits before another node may take it: longer than one
 * attempt (5 s), so a node that dies mid-attempt delays its delivery, never loses it.
 */
const CLAIM_MS = 30_000;

/**
 * Delivers queued webhooks with retries and exponential backoff. A delivery that
 * keeps failing moves to the dead-letter list (visible over the API) after
 * {@link MAX_ATTEMPTS}. Delivery is at least once; receivers deduplicate by event id.
 * Only a 2xx delivers: a redirect is a failed attempt like any other status.
 */
export class WebhookDispatcher {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly targets: readonly WebhookTarget[],
    private readonly log: FastifyBaseLogger | undefined,
    private readonly observer: WebhookObserver | null = null,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    if (this.targets.length === 0) return;
    const tick = (): void => {
      this.#busy = this.deliverDue()
        .catch((e: unknown) =>
          this.log?.warn({ err: { message: (e as Error).message } }, 'webhook dispatch failed'),
        )
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.#timer = setTimeout(tick, this.intervalMs);
  }

  async deliverDue(): Promise<void> {
    for (const d of await this.store.read.webhooks.due(this.clock.now().toISOString(), 50)) {
      // Each by its own time: a batch behind slow receivers takes up to 50 × 5 s, so the
      // batch's start would sign stale timestamps, lease deliveries already lapsed (another
      // node would send them too) and schedule retries in the past.
      const now = this.clock.now();
      const at = now.toISOString();
      const leaseUntil = new Date(now.getTime() + CLAIM_MS).toISOString();
      // Every node runs a dispatcher: the one whose claim lands sends, the others skip.
      const mine = await this.store.transaction((tx) =>
        tx.webhooks.claim(d.id, d.attempts, at, leaseUntil),
      );
      if (!mine) continue;
      const target = this.targets.find((t) => t.url === d.endpoint);
      let error: string | null = target ? null : 'endpoint no longer configured';
      let failure: WebhookFailure | null = target ? null : 'unconfigured';
      if (target) {
        try {
          const res = await fetch(target.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/cloudevents+json',
              [SIGNATURE_HEADER]: signDelivery(
                target.secret,
                d.payload,
                Math.floor(now.getTime() / 1000),
              ),
            },
            body: d.payload,
            signal: AbortSignal.timeout(5000),
            // Following would re-post the signed body wherever Location points (another
            // origin, a metadata service), or turn it into a GET that "succeeds".
            redirect: 'manual',
          });
          // Unread, the answer's body would hold its connection until collected.
          await res.body?.cancel();
          if (res.status >= 300 && res.status < 400) {
            // Location is not quoted: it is the receiver's, and may carry a token.
            [error, failure] = [
              `HTTP ${res.status}: the endpoint redirected (not followed)`,
              'http_status',
            ];
          } else if (!res.ok) [error, failure] = [`HTTP ${res.status}`, 'http_status'];
        } catch (e) {
          const timedOut = (e as Error).name === 'TimeoutError';
          error = timedOut ? 'timeout' : 'connection failed';
          failure = timedOut ? 'timeout' : 'connection';
        }
      }
      const attempts = d.attempts + 1;
      const patch = {
        state: error === null ? 'delivered' : attempts >= MAX_ATTEMPTS ? 'dead' : 'pending',
        attempts,
        nextAttemptAt: new Date(this.clock.now().getTime() + backoffMs(attempts)).toISOString(),
        lastError: error,
      } as const;
      await this.store.transaction((tx) => tx.webhooks.update(d.id, d.attempts, patch));
      this.observer?.attempted(failure, patch.state === 'dead');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#busy;
  }
}
