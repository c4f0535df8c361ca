import type { OffsetClock } from '../../core/clock.js';
import type { ServiceContext } from '../../service/context.js';
import type { ServerMetrics } from '../metrics/registry.js';

export interface RoutesOptions {
  readonly ctx: ServiceContext;
  /** Passes asked for over the API are timed and counted like the scheduled ones. */
  readonly metrics: ServerMetrics;
  /** The log's checkpoint origin and note key name. */
  readonly origin: string;
  /** Why the node is not ready beyond its database (a stalled log), or null when it is. */
  readonly readiness?: () => Promise<string | null>;
  /** Present only in dev mode: lets end-to-end tests move time forward. */
  readonly devClock?: OffsetClock;
}
