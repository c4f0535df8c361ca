import type { OffsetClock } from '../../core/clock.js';
import type { ServiceContext } from '../../service/context.js';

export interface RoutesOptions {
  readonly ctx: ServiceContext;
  /** Present only in dev mode: lets end-to-end tests move time forward. */
  readonly devClock?: OffsetClock;
}
