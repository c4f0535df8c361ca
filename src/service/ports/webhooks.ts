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
  update(id: string, patch: DeliveryPatch): Promise<void>;
}
