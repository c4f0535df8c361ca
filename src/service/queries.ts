import type { Decision } from '../approval/decision.js';
import { CountersignError } from '../core/errors.js';
import type { RequestId } from '../core/ids.js';
import { effectiveState } from '../request/lifecycle.js';
import type { RequestBody, RequestErrorCode, RequestState } from '../request/request.js';
import { WARRANT_TYP, type WarrantErrorCode, type WarrantRecord } from '../warrant/warrant.js';
import type { ServiceContext } from './context.js';
import { storeWarrantToken } from './decide.js';
import { loadRequest } from './load-request.js';

export interface RequestView {
  readonly id: RequestId;
  readonly state: RequestState;
  readonly body: RequestBody;
  readonly approvals: number;
  readonly requiredApprovals: number;
  readonly decisions: readonly Decision[];
  readonly warrantId: string | null;
}

export async function getRequest(ctx: ServiceContext, id: string): Promise<RequestView> {
  const r = await loadRequest(ctx.store.read, id);
  const decisions = await ctx.store.read.requests.decisions(r.id);
  return {
    id: r.id,
    state: effectiveState(r.state, r.body.pendingExpiresAt, ctx.clock.now()),
    body: r.body,
    approvals: decisions.filter((d) => d.decision === 'approve').length,
    requiredApprovals: r.body.policy.requiredApprovals,
    decisions,
    warrantId: r.warrantId,
  };
}

export interface RequestSummary {
  readonly id: RequestId;
  readonly state: RequestState;
  readonly requester: string;
  readonly subject: string;
  readonly action: string;
  readonly environment: string;
  readonly createdAt: string;
}

export interface WarrantView {
  readonly warrantId: string;
  readonly requestId: string;
  readonly token: string;
  readonly state: 'active' | 'revoked';
  readonly uses: number;
  readonly maxUses: number;
  readonly notBefore: string;
  readonly notAfter: string;
}

export async function getWarrantForRequest(
  ctx: ServiceContext,
  requestId: string,
): Promise<WarrantView> {
  const r = await ctx.store.read.requests.get(requestId as RequestId);
  if (!r) throw new CountersignError<RequestErrorCode>('REQUEST_UNKNOWN', 'no such request');
  const w = await ctx.store.read.warrants.getByRequest(r.id);
  if (!w) {
    throw new CountersignError<WarrantErrorCode>(
      'WARRANT_NOT_ISSUED',
      `no warrant: the request is ${r.state}`,
    );
  }
  return {
    warrantId: w.id,
    requestId: w.requestId,
    token: await warrantToken(ctx, w),
    state: w.state,
    uses: w.uses,
    maxUses: w.claims.max_uses,
    notBefore: w.notBefore,
    notAfter: w.notAfter,
  };
}

/**
 * The warrant's signed token. It is signed just after the transaction that issued it;
 * should the process have died in between, it is signed now, by the key the warrant
 * names, while that key still signs (Ed25519 is deterministic: the same token).
 */
export async function warrantToken(ctx: ServiceContext, w: WarrantRecord): Promise<string> {
  if (w.token !== '') return w.token;
  const keys = ctx.keys();
  if (keys.activeKid !== w.kid) {
    throw new CountersignError<WarrantErrorCode>(
      'WARRANT_NOT_ISSUED',
      'the warrant was never signed and its key no longer signs: revoke it and request again',
    );
  }
  const token = await keys.signJws(w.claims, WARRANT_TYP);
  await storeWarrantToken(ctx, w.id, token);
  return token;
}
