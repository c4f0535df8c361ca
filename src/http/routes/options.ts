import type { OffsetClock } from '../../core/clock.js';
import type { ServiceContext } from '../../service/context.js';
import type { PassGate } from '../../service/reconcile-gate.js';
import type { ReconcileSummary } from '../../service/reconcile.js';
import type { ServerMetrics } from '../metrics/registry.js';

export interface RoutesOptions {
  readonly ctx: ServiceContext;
  /** Passes asked for over the API are timed and counted like the scheduled ones. */
  readonly metrics: ServerMetrics;
  /** The node's one reconciliation pass at a time, shared with its scheduled passes. */
  readonly passes: PassGate<ReconcileSummary>;
  /** The log's checkpoint origin and note key name. */
  readonly origin: string;
  /** Why the node is not ready beyond its database (a stalled log), or null when it is. */
  readonly readiness?: () => Promise<string | null>;
  /** Present only in dev mode: lets end-to-end tests move time forward. */
  readonly devClock?: OffsetClock;
}
