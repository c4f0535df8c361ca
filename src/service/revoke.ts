import { CountersignError } from '../core/errors.js';
import type { WarrantId } from '../core/ids.js';
import { hasRole, type Principal } from '../identity/principal.js';
import type { RequestErrorCode } from '../request/request.js';
import type { WarrantErrorCode } from '../warrant/warrant.js';
import { screenFreeText } from '../core/secrets.js';
import { record, type ServiceContext, type ServiceErrorCode } from './context.js';
import { expiredError, recordDueExpiry } from './request-expiry.js';

/** Revokes a warrant. Only an admin or the request's requester may. */
export async function revokeWarrant(
  ctx: ServiceContext,
  actor: Principal,
  warrantId: string,
  reason: string,
): Promise<{ warrantId: WarrantId; revokedAt: string }> {
  screenFreeText({ reason });
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.store.transaction(async (tx) => {
    const w = await tx.warrants.get(warrantId as WarrantId);
    if (!w) throw new CountersignError<WarrantErrorCode>('WARRANT_NOT_FOUND', 'no such warrant');
    const request = await tx.requests.get(w.requestId);
    if (!hasRole(actor, 'admin') && request?.body.requester !== actor.id) {
      throw new CountersignError<ServiceErrorCode>(
        'FORBIDDEN',
        'only an admin or the requester may revoke this warrant',
      );
    }
    if (!(await tx.warrants.revoke(w.id, actor.id, reason, at))) {
      throw new CountersignError<WarrantErrorCode>(
        'WARRANT_ALREADY_REVOKED',
        'the warrant is already revoked',
      );
    }
    // Every credential a broker minted under it is revoked now, not at the window's end.
    await tx.grants.dueBy(w.id, at);
    // An exhausted request stays exhausted; the warrant row still records the revocation.
    await tx.requests.transition(w.requestId, 'approved', 'revoked', at);
    await record(
      tx,
      'warrant.revoked',
      now,
      actor.id,
      { request: w.requestId, warrant: w.id, nhi: w.claims.sub },
      {
        reason,
      },
    );
    return { warrantId: w.id, revokedAt: at };
  });
}

/** Withdraws a pending request. Only its requester may. */
export async function withdrawRequest(
  ctx: ServiceContext,
  actor: Principal,
  requestId: string,
  reason: string,
): Promise<void> {
  screenFreeText({ reason });
  const now = ctx.clock.now();
  const expired = await ctx.store.transaction(async (tx) => {
    const r = await tx.requests.get(requestId as never);
    if (!r) throw new CountersignError<RequestErrorCode>('REQUEST_UNKNOWN', 'no such request');
    if (r.body.requester !== actor.id) {
      throw new CountersignError<RequestErrorCode>(
        'NOT_REQUESTER',
        'only the requester may withdraw',
      );
    }
    // Past its deadline it ended by expiring, whatever its row still says: record that.
    if (await recordDueExpiry(tx, r, now, actor.id)) return true;
    if (!(await tx.requests.transition(r.id, 'pending', 'withdrawn', now.toISOString()))) {
      throw new CountersignError<RequestErrorCode>(
        'REQUEST_NOT_PENDING',
        `the request is ${r.state}`,
      );
    }
    await record(tx, 'request.withdrawn', now, actor.id, { request: r.id }, { reason });
    return false;
  });
  if (expired) throw expiredError('it was withdrawn');
}
