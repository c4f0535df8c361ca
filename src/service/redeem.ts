import { epochSeconds } from '../core/clock.js';
import { sha256Hex } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import { newReceiptId, type ReceiptId, type WarrantId } from '../core/ids.js';
import { consumeToken } from '../identity/oidc/replay.js';
import type { Principal } from '../identity/principal.js';
import { identityProof } from '../identity/proof.js';
import { checkRedemption } from '../redemption/check.js';
import { RECEIPT_TYP, type ReceiptClaims } from '../redemption/receipt.js';
import {
  EXHAUSTED,
  type RedemptionAction,
  type RedemptionDecision,
  type RedemptionDenialCode,
} from '../redemption/redemption.js';
import { WARRANT_TYP, WarrantClaimsSchema } from '../warrant/warrant.js';
import { record, type ServiceContext } from './context.js';

export interface RedeemAllowed {
  readonly receipt: string;
  readonly receiptId: ReceiptId;
  readonly warrantId: WarrantId;
  readonly requestId: string;
  readonly use: number;
  readonly maxUses: number;
  readonly remaining: number;
}

/**
 * Spends the executor's federated token, if it came with one, before anything else: the
 * token is spent even when the redemption is then refused, so it redeems at most once
 * (by `jti`, or for a jti-less human token by its digest). Returns the verified identity.
 */
export async function spendExecutorToken(ctx: ServiceContext, executor: Principal) {
  const identity = executor.via === 'oidc' ? executor.identity : null;
  if (identity) {
    await consumeToken(ctx.identity.replayGuard, identity, {
      requireJti: identity.kind === 'workload',
    });
  }
  return identity;
}

/**
 * Redemption at the point of execution. A federated caller's token is spent first
 * (a replay is refused with `TOKEN_REPLAYED` and nothing is written). The pure check
 * then decides; on allow the use is spent by a conditional update, and the outcome
 * (allow or deny, with its code, and which identity asked) is recorded in the same
 * transaction. A denial is thrown only after that commit.
 */
export async function redeem(
  ctx: ServiceContext,
  executor: Principal,
  token: string,
  action: RedemptionAction,
): Promise<RedeemAllowed> {
  const identity = await spendExecutorToken(ctx, executor);
  const proof = identityProof(executor);
  const now = ctx.clock.now();
  const at = now.toISOString();
  const keys = ctx.keys();
  const verified = await keys.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
  const claims = verified?.claims ?? null;
  const outcome = await ctx.store.transaction(async (tx) => {
    const rec = claims ? await tx.warrants.get(claims.jti) : null;
    let decision: RedemptionDecision = checkRedemption({
      claims,
      keyRevoked: verified?.keyState === 'revoked',
      record: rec,
      action,
      executor: executor.id,
      executorIdentity: identity,
      now,
    });
    let use: number | null = null;
    if (decision.kind === 'allow' && rec && claims) {
      // The single-use guarantee: the check above read the count, this spends it.
      use = await tx.warrants.consumeUse(rec.id, claims.max_uses);
      if (use === null) decision = EXHAUSTED;
    }
    const id = newReceiptId();
    const warrantId = rec?.id ?? null;
    const links = rec ? { request: rec.requestId, warrant: rec.id, nhi: rec.claims.sub } : {};
    const redemption = { id, warrantId, executor: executor.id, action, at };
    if (decision.kind === 'deny' || !rec || !claims || use === null) {
      const code = decision.kind === 'deny' ? decision.code : 'WARRANT_UNKNOWN';
      const eventId = await record(tx, 'redemption.denied', now, executor.id, links, {
        code,
        action,
        // Identifies the presented token without recording it.
        tokenSha256: sha256Hex(token),
        executor_identity: proof,
        ...(claims ? { claimedWarrant: claims.jti } : {}),
      });
      await tx.warrants.recordRedemption({
        ...redemption,
        outcome: 'deny',
        code,
        useNumber: null,
        eventId,
      });
      return {
        kind: 'deny' as const,
        code,
        reason: decision.kind === 'deny' ? decision.reason : '',
      };
    }
    const receiptClaims: ReceiptClaims = {
      iss: ctx.issuer,
      jti: id,
      iat: epochSeconds(now),
      warrant_id: rec.id,
      request_id: rec.requestId,
      sub: rec.claims.sub,
      use,
      max_uses: claims.max_uses,
      action,
      executor: executor.id,
      executor_identity: proof,
    };
    const eventId = await record(tx, 'redemption.allowed', now, executor.id, links, {
      receipt: receiptClaims,
      kid: keys.activeKid,
    });
    await tx.warrants.recordRedemption({
      ...redemption,
      outcome: 'allow',
      code: null,
      useNumber: use,
      eventId,
    });
    if (use === claims.max_uses) {
      await tx.requests.transition(rec.requestId, 'approved', 'exhausted', at);
      await record(tx, 'warrant.exhausted', now, 'countersign', links, { uses: use });
    }
    return {
      kind: 'allow' as const,
      receiptClaims,
      result: {
        receiptId: id,
        warrantId: rec.id,
        requestId: rec.requestId,
        use,
        maxUses: claims.max_uses,
        remaining: claims.max_uses - use,
      },
    };
  });
  if (outcome.kind === 'deny') {
    throw new CountersignError<RedemptionDenialCode>(outcome.code, outcome.reason);
  }
  // Signed after the commit, off the event loop and outside the batch: the event holds the
  // claims and the kid, and Ed25519 is deterministic, so the receipt is exactly the one the
  // log describes. A crash in between leaves a spent use without a receipt, as a crash
  // before the answer is written would.
  const receipt = await keys.signJws(outcome.receiptClaims, RECEIPT_TYP);
  return { receipt, ...outcome.result };
}
