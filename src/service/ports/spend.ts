import type { RequestId, WarrantId } from '../../core/ids.js';
import type { EncodedEvent, OpenEvent } from '../../log/event.js';

/**
 * An allowed redemption, complete but for its use number, for `Store.spendUse` to
 * write in one atomic step. The caller has run every check that needs only what was
 * presented (`checkPresented`); the store checks the row.
 */
export interface UseSpend {
  readonly warrantId: WarrantId;
  /** The request the signed claims name: the row must have been issued for it. */
  readonly requestId: RequestId;
  /** The warrant's signed `max_uses`, the bound the row's counters may not pass. */
  readonly signedMaxUses: number;
  /** The instant of the redemption, ISO 8601: the row's exact window must hold it. */
  readonly at: string;
  readonly redemption: {
    readonly id: string;
    readonly executor: string;
    readonly action: unknown;
  };
  /** `redemption.allowed`, open at the use number. */
  readonly allowed: OpenEvent;
  /**
   * `warrant.exhausted`, recorded with the request's move to exhausted when the use is
   * the last: made only when a store needs it (PostgreSQL's statement always does).
   */
  readonly exhausted: () => EncodedEvent;
}

/** What `spendUse` wrote: the use number and the id of its `redemption.allowed` event. */
export interface SpentUse {
  readonly use: number;
  readonly eventId: number;
}
