export interface WebhookDelivery {
  readonly id: string;
  readonly endpoint: string;
  readonly eventType: string;
  readonly payload: string;
  readonly state: 'pending' | 'delivered' | 'dead';
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastError: string | null;
  readonly createdAt: string;
}

export type DeliveryPatch = Pick<
  WebhookDelivery,
  'state' | 'attempts' | 'nextAttemptAt' | 'lastError'
>;

export interface WebhookReader {
  due(now: string, limit: number): Promise<WebhookDelivery[]>;
  list(state: WebhookDelivery['state'], limit: number): Promise<WebhookDelivery[]>;
}

export interface WebhookWriter extends WebhookReader {
  insert(delivery: WebhookDelivery): Promise<void>;
  /**
   * Takes a due delivery for one attempt: moves its next attempt to `leaseUntil` while it
   * is still pending with `attempts` attempts and due at `now`. False when another node
   * took it first, so that node alone sends it.
   */
  claim(id: string, attempts: number, now: string, leaseUntil: string): Promise<boolean>;
  /** Records the attempt made after a claim of a delivery with `attempts` attempts. */
  update(id: string, attempts: number, patch: DeliveryPatch): Promise<boolean>;
}
