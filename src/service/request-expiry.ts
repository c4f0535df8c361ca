import { CountersignError } from '../core/errors.js';
import { effectiveState } from '../request/lifecycle.js';
import type { RequestErrorCode, RequestRecord } from '../request/request.js';
import { record } from './context.js';
import type { TxPorts } from './ports/store.js';

/**
 * Records the expiry of a request still pending past its deadline, in the transaction of
 * whichever attempt to act on it finds it so first (a decision, a withdrawal). True when
 * it did: the caller then commits and refuses with {@link expiredError}, so that the
 * request's end in the log is its expiry, not whatever was attempted after it.
 */
export async function recordDueExpiry(
  tx: TxPorts,
  request: RequestRecord,
  now: Date,
  actor: string,
): Promise<boolean> {
  if (request.state !== 'pending') return false;
  if (effectiveState(request.state, request.body.pendingExpiresAt, now) !== 'expired') {
    return false;
  }
  await tx.requests.transition(request.id, 'pending', 'expired', now.toISOString());
  await record(
    tx,
    'request.expired',
    now,
    actor,
    { request: request.id },
    { pendingExpiresAt: request.body.pendingExpiresAt },
  );
  return true;
}

export const expiredError = (what: string) =>
  new CountersignError<RequestErrorCode>('REQUEST_EXPIRED', `the request expired before ${what}`);
