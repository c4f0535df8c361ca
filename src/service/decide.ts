import { evaluateDecision, type Decision, type DecisionKind } from '../approval/decision.js';
import { newDecisionId, newWarrantId, type RequestId, type WarrantId } from '../core/ids.js';
import { requireRecentAuth } from '../identity/oidc/authenticator.js';
import type { Principal } from '../identity/principal.js';
import { identityProof } from '../identity/proof.js';
import { effectiveState } from '../request/lifecycle.js';
import type { RequestState } from '../request/request.js';
import { windowAt } from '../request/window.js';
import { WARRANT_TYP, warrantClaims } from '../warrant/warrant.js';
import { record, type ServiceContext } from './context.js';
import { screenFreeText } from '../core/secrets.js';
import { loadRequest } from './load-request.js';
import { expiredError, recordDueExpiry } from './request-expiry.js';

export interface DecideResult {
  readonly decision: Decision;
  readonly state: RequestState;
  readonly approvals: number;
  readonly warrantId: WarrantId | null;
}

/**
 * Records one approver's decision. The Nth approval issues the warrant in the same
 * transaction; one denial ends the request. A person signed in through OIDC must have
 * signed in recently (`AUTH_TOO_OLD` otherwise, with nothing written), and the
 * decision, in its row and its event, carries the proof of who they were.
 */
export async function decide(
  ctx: ServiceContext,
  approver: Principal,
  requestId: string,
  kind: DecisionKind,
  reason: string,
): Promise<DecideResult> {
  screenFreeText({ reason });
  const now = ctx.clock.now();
  if (approver.via === 'oidc') {
    // A decision must ride on a recent sign-in, not on a day-old session (RFC 9470).
    requireRecentAuth(approver.identity, now, ctx.identity.approvalAuthMaxAgeSeconds);
  }
  const at = now.toISOString();
  const result = await ctx.store.transaction(async (tx) => {
    // Decisions on one request are counted one at a time: on PostgreSQL two approvals
    // racing at READ COMMITTED would each miss the other and never reach quorum.
    await tx.requests.lock(requestId as RequestId);
    const request = await loadRequest(tx, requestId);
    // The expiry this attempt discovered is recorded; the refusal comes after commit.
    if (await recordDueExpiry(tx, request, now, approver.id)) return 'expired' as const;
    const prior = await tx.requests.decisions(request.id);
    const state = effectiveState(request.state, request.body.pendingExpiresAt, now);
    const outcome = evaluateDecision(request, prior, approver, kind, state);
    const decision: Decision = {
      id: newDecisionId(),
      requestId: request.id,
      requestDigest: request.id,
      approver: approver.id,
      decision: kind,
      reason,
      at,
      approverIdentity: identityProof(approver),
    };
    await tx.requests.insertDecision(decision);
    const type = kind === 'approve' ? 'decision.approved' : 'decision.denied';
    await record(
      tx,
      type,
      now,
      approver.id,
      { request: request.id },
      {
        decision,
        policyVersion: request.body.policy.version,
        rule: request.body.policy.rule,
      },
    );
    switch (outcome.kind) {
      case 'denied':
        await tx.requests.transition(request.id, 'pending', 'denied', at);
        return { decision, state: 'denied' as const, approvals: 0, warrantId: null };
      case 'recorded':
        return {
          decision,
          state: 'pending' as const,
          approvals: outcome.approvals,
          warrantId: null,
        };
      case 'quorum': {
        const approvals = [...prior.filter((d) => d.decision === 'approve'), decision];
        const id = newWarrantId();
        // A key another node revoked since this one read its ring would sign a warrant
        // every node then refuses: read the keys again first.
        if (await tx.keys.isRevoked(ctx.keys().activeKid)) await ctx.keyAdmin.refresh(tx.keys);
        const keys = ctx.keys();
        const window = windowAt(request.body, now);
        const claims = warrantClaims({
          issuer: ctx.issuer,
          id,
          requestId: request.id,
          body: request.body,
          window,
          approvals: approvals.map((d) => d.id),
          now,
        });
        // Signed after the commit (below), like receipts and checkpoints: the row and the
        // event hold the claims and the kid, and Ed25519 is deterministic.
        await tx.warrants.insert({
          id,
          requestId: request.id,
          kid: keys.activeKid,
          token: '',
          claims,
          notBefore: window.notBefore,
          notAfter: window.notAfter,
          uses: 0,
          maxUses: claims.max_uses,
          state: 'active',
          issuedAt: at,
          revokedAt: null,
          revokedBy: null,
          revokeReason: null,
        });
        await tx.requests.transition(request.id, 'pending', 'approved', at, id);
        await record(
          tx,
          'warrant.issued',
          now,
          'countersign',
          { request: request.id, warrant: id, nhi: claims.sub },
          { claims, kid: keys.activeKid, window },
        );
        return {
          decision,
          state: 'approved' as const,
          approvals: outcome.approvals,
          warrantId: id,
          issued: { keys, claims },
        };
      }
    }
  });
  if (result === 'expired') throw expiredError('a decision');
  if ('issued' in result) {
    const { keys, claims } = result.issued;
    await storeWarrantToken(ctx, claims.jti, await keys.signJws(claims, WARRANT_TYP));
    const { issued: _, ...decided } = result;
    return decided;
  }
  return result;
}

/** Fills in a warrant's signed token, in a short transaction of its own. */
export async function storeWarrantToken(
  ctx: ServiceContext,
  id: WarrantId,
  token: string,
): Promise<void> {
  await ctx.store.transaction((tx) => tx.warrants.setToken(id, token));
}
