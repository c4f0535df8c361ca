import { createHmac } from 'node:crypto';
import { randomId } from '../core/crypto.js';
import type { WebhookWriter } from './ports/webhooks.js';

export const WEBHOOK_EVENTS = ['request.pending', 'finding.raised', 'finding.reopened'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** A configured endpoint. The secret signs deliveries and never leaves the server. */
export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
  readonly events: readonly WebhookEvent[];
}

export const WEBHOOK_SOURCE = 'urn:countersign';
export const SIGNATURE_HEADER = 'x-countersign-signature';

/**
 * Queues a CloudEvents 1.0 (structured JSON mode) delivery for every endpoint that
 * subscribes to `type`, in the caller's transaction: a notification exists exactly
 * when the state change it reports was committed.
 */
export async function enqueueWebhook(
  tx: { readonly webhooks: Pick<WebhookWriter, 'insert'> },
  targets: readonly WebhookTarget[],
  type: WebhookEvent,
  now: Date,
  data: Record<string, unknown>,
): Promise<void> {
  for (const t of targets) {
    if (!t.events.includes(type)) continue;
    const id = randomId('evt');
    const cloudEvent = {
      specversion: '1.0',
      id,
      source: WEBHOOK_SOURCE,
      type: `dev.countersign.${type}`,
      time: now.toISOString(),
      datacontenttype: 'application/json',
      data,
    };
    await tx.webhooks.insert({
      id,
      endpoint: t.url,
      eventType: type,
      payload: JSON.stringify(cloudEvent),
      state: 'pending',
      attempts: 0,
      nextAttemptAt: now.toISOString(),
      lastError: null,
      createdAt: now.toISOString(),
    });
  }
}

/**
 * `t=<unix seconds>,sha256=<hex HMAC-SHA256(secret, "<t>.<body>")>`. Binding the time
 * lets receivers refuse replays of an old delivery.
 */
export function signDelivery(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},sha256=${mac}`;
}

/** Exponential backoff: 1 s, 2 s, 4 s, … capped at 5 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1));
}

export const MAX_ATTEMPTS = 6;
