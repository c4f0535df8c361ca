import type { Clock } from '../core/clock.js';
import type { KeyRing } from '../keys/keyring.js';
import { encodeEvent, type EventType } from '../log/event.js';
import type { Policy } from '../policy/policy.js';
import type { Repo, Store } from '../store/store.js';

/** Everything a use case needs, injected once at start. */
export interface ServiceContext {
  readonly store: Store;
  readonly clock: Clock;
  /** Read through a getter: key rotation swaps the ring without restarting. */
  readonly keys: () => KeyRing;
  readonly policy: Policy;
  /** The `iss` of warrants and receipts. */
  readonly issuer: string;
}

export type ServiceErrorCode = 'FORBIDDEN';

/** Appends one event inside the caller's transaction. */
export async function record(
  tx: Repo,
  type: EventType,
  at: Date,
  actor: string,
  links: { request?: string; warrant?: string; nhi?: string },
  data: Record<string, unknown>,
): Promise<number> {
  return tx.appendEvent(encodeEvent({ v: 1, type, at: at.toISOString(), actor, links, data }));
}
