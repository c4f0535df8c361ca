import type { Kysely, Selectable } from 'kysely';
import type {
  DeliveryPatch,
  WebhookDelivery,
  WebhookWriter,
} from '../../service/ports/webhooks.js';
import type { Database, WebhookDeliveriesTable } from '../schema.js';

const toDelivery = (r: Selectable<WebhookDeliveriesTable>): WebhookDelivery => ({
  id: r.id,
  endpoint: r.endpoint,
  eventType: r.event_type,
  payload: r.payload,
  state: r.state as WebhookDelivery['state'],
  attempts: Number(r.attempts),
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  createdAt: r.created_at,
});

/** Webhook deliveries, queued with the event that caused them. */
export class KyselyWebhooks implements WebhookWriter {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(d: WebhookDelivery): Promise<void> {
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        id: d.id,
        endpoint: d.endpoint,
        event_type: d.eventType,
        payload: d.payload,
        state: d.state,
        attempts: d.attempts,
        next_attempt_at: d.nextAttemptAt,
        last_error: d.lastError,
        created_at: d.createdAt,
      })
      .execute();
  }

  async due(now: string, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async claim(id: string, attempts: number, now: string, leaseUntil: string): Promise<boolean> {
    const r = await this.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: leaseUntil })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .where('attempts', '=', attempts)
      .where('next_attempt_at', '<=', now)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async update(id: string, attempts: number, p: DeliveryPatch): Promise<boolean> {
    const r = await this.db
      .updateTable('webhook_deliveries')
      .set({
        state: p.state,
        attempts: p.attempts,
        next_attempt_at: p.nextAttemptAt,
        last_error: p.lastError,
      })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .where('attempts', '=', attempts)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async list(state: WebhookDelivery['state'], limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('state', '=', state)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }
}
