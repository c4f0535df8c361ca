import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { PRESSURES } from '../shed.js';
import { METRIC_PREFIX } from './names.js';
import { installStoreGauges, type MetricsSource } from './store-gauges.js';

/**
 * How a redemption answer ended, as counted at the HTTP edge:
 * - `allowed`: a receipt was answered (a retry with its idempotency key included);
 * - `denied`: refused with a redemption denial code (`core/denials.ts`);
 * - `rejected`: refused before any decision (credentials, body, load), by its problem code;
 * - `error`: a server-side failure (5xx other than a denial);
 * - `dry_run`: a dry run, which spends nothing, whatever its answer.
 */
export type RedemptionOutcome = 'allowed' | 'denied' | 'rejected' | 'error' | 'dry_run';

/** Why a webhook delivery attempt failed. */
export const WEBHOOK_FAILURES = ['http_status', 'timeout', 'connection', 'unconfigured'] as const;
export type WebhookFailure = (typeof WEBHOOK_FAILURES)[number];

/** What the webhook dispatcher reports after each attempt. */
export interface WebhookObserver {
  attempted(failure: WebhookFailure | null, deadLettered: boolean): void;
}

// Seconds; a redemption answers in milliseconds, a pass over a large store in minutes.
const REDEMPTION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const RECONCILE_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

let processRegistry: Registry | undefined;

/**
 * The process's own metrics (CPU, memory, event-loop lag, GC), made once per process and
 * never in prom-client's global registry: they describe the process every server in it
 * shares, and each collector started keeps an event-loop monitor and a GC observer alive.
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRIC_PREFIX });
  }
  return processRegistry;
}

/**
 * One server's metrics, in a registry of its own (tests run many servers in one
 * process). Counters are fed at the edges (Fastify hooks, the periodic tasks, the
 * webhook dispatcher, the load shedder); the store's gauges are read at scrape time.
 */
export class ServerMetrics {
  readonly registry = new Registry();

  readonly redemptions = new Counter({
    name: `${METRIC_PREFIX}redemptions_total`,
    help: 'Redemption answers, by outcome and by problem code (none when allowed).',
    labelNames: ['outcome', 'code'] as const,
    registers: [this.registry],
  });

  readonly redemptionSeconds = new Histogram({
    name: `${METRIC_PREFIX}redemption_duration_seconds`,
    help: 'Time from a redemption request arriving to its answer being written, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: REDEMPTION_BUCKETS,
    registers: [this.registry],
  });

  readonly reconcileSeconds = new Histogram({
    name: `${METRIC_PREFIX}reconcile_duration_seconds`,
    help: 'Duration of reconciliation passes (scheduled or asked for), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: RECONCILE_BUCKETS,
    registers: [this.registry],
  });

  readonly reconcileRows = new Counter({
    name: `${METRIC_PREFIX}reconcile_rows_scanned_total`,
    help: 'Rows reconciliation passes read from the store.',
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: `${METRIC_PREFIX}webhook_deliveries_total`,
    help: 'Webhook delivery attempts, successful or not.',
    registers: [this.registry],
  });

  readonly webhookFailures = new Counter({
    name: `${METRIC_PREFIX}webhook_failures_total`,
    help: 'Webhook delivery attempts that failed, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly webhookDeadLetters = new Counter({
    name: `${METRIC_PREFIX}webhook_dead_letters_total`,
    help: 'Webhook deliveries given up after their last attempt (see /v1/webhooks/dead-letters).',
    registers: [this.registry],
  });

  readonly shed = new Counter({
    name: `${METRIC_PREFIX}shed_requests_total`,
    help: 'Requests refused with 503 OVERLOADED by the load shedder, by the limit they hit.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(source: MetricsSource) {
    // Series that exist from the start at zero, so that rate() over them works (and a
    // dashboard shows 0, not "no data") before the first event of their kind.
    this.redemptions.inc({ outcome: 'allowed' }, 0);
    this.redemptionSeconds.zero({ outcome: 'allowed' });
    this.reconcileSeconds.zero({ outcome: 'ok' });
    for (const reason of PRESSURES) this.shed.inc({ reason }, 0);
    for (const reason of WEBHOOK_FAILURES) this.webhookFailures.inc({ reason }, 0);
    installStoreGauges(this.registry, source);
    new Gauge({
      name: `${METRIC_PREFIX}db_pool_connections`,
      help: 'Database connections by state (SQLite: its one writer connection).',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const usage = source.store.poolUsage();
        this.set({ state: 'in_use' }, usage.inUse);
        this.set({ state: 'idle' }, usage.idle);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}db_pool_waiting_requests`,
      help: 'Work waiting for a connection (SQLite: transactions queued for the next group commit).',
      registers: [this.registry],
      collect() {
        this.set(source.store.poolUsage().waiting);
      },
    });
  }

  /** Counts one redemption answer and its latency. */
  redemption(outcome: RedemptionOutcome, code: string | null, seconds: number): void {
    this.redemptions.inc(code === null ? { outcome } : { outcome, code });
    this.redemptionSeconds.observe({ outcome }, seconds);
  }

  /** Runs one reconciliation pass, timing it and counting the rows it read. */
  async reconcile<T extends { readonly scanned: number }>(pass: () => Promise<T>): Promise<T> {
    const end = this.reconcileSeconds.startTimer();
    try {
      const summary = await pass();
      end({ outcome: 'ok' });
      this.reconcileRows.inc(summary.scanned);
      return summary;
    } catch (e) {
      end({ outcome: 'failed' });
      throw e;
    }
  }

  readonly webhooks: WebhookObserver = {
    attempted: (failure, deadLettered) => {
      this.webhookDeliveries.inc();
      if (failure !== null) this.webhookFailures.inc({ reason: failure });
      if (deadLettered) this.webhookDeadLetters.inc();
    },
  };

  /** The scrape: this server's metrics, then the process's, in Prometheus text format. */
  async exposition(): Promise<{ readonly contentType: string; readonly text: string }> {
    const own = await this.registry.metrics();
    return {
      contentType: this.registry.contentType,
      text: own + (await processMetrics().metrics()),
    };
  }
}
