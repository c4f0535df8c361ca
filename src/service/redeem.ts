import { Value } from '@sinclair/typebox/value';
import { canonicalJson } from '../core/canonical.js';
import { sha256Hex } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import { newReceiptId, type ReceiptId, type WarrantId } from '../core/ids.js';
import { consumeToken } from '../identity/oidc/replay.js';
import type { Principal } from '../identity/principal.js';
import { identityProof } from '../identity/proof.js';
import { checkRedemption, checkRetry } from '../redemption/check.js';
import { RECEIPT_TYP, ReceiptSchema, type ReceiptClaims } from '../redemption/receipt.js';
import {
  EXHAUSTED,
  type RedemptionAction,
  type RedemptionDecision,
  type RedemptionDenialCode,
} from '../redemption/redemption.js';
import { WARRANT_TYP, WarrantClaimsSchema } from '../warrant/warrant.js';
import type { LogEvent } from '../log/event.js';
import { mintIfAllowed, recordMinted, takingTurns } from './broker.js';
import { record, type ServiceContext } from './context.js';
import { receiptClaimsOf, redeemAtOnce } from './redeem-at-once.js';
import type { RedemptionRow } from './ports/warrants.js';
import type { TxPorts } from './ports/store.js';

export interface RedeemAllowed {
  readonly receipt: string;
  readonly receiptId: ReceiptId;
  readonly warrantId: WarrantId;
  readonly requestId: string;
  readonly use: number;
  readonly maxUses: number;
  readonly remaining: number;
  /** A brokered grant's credential (e.g. PGUSER, PGPASSWORD): returned here once, never stored. */
  readonly credential?: Readonly<Record<string, string>>;
}

export interface RedeemInput {
  readonly warrant: string;
  readonly action: RedemptionAction;
  /** Makes a retry answer the first allowed redemption again instead of spending more. */
  readonly idempotencyKey?: string | undefined;
}

/** Raised when an idempotency key comes back with another warrant or action. */
export type RedeemErrorCode = 'IDEMPOTENCY_KEY_REUSED';

const allowed = (receiptClaims: ReceiptClaims) => ({
  kind: 'allow' as const,
  receiptClaims,
  result: {
    receiptId: receiptClaims.jti,
    warrantId: receiptClaims.warrant_id,
    requestId: receiptClaims.request_id,
    use: receiptClaims.use,
    maxUses: receiptClaims.max_uses,
    remaining: receiptClaims.max_uses - receiptClaims.use,
  },
});

/**
 * A key sent again with another warrant or action is refused: it would otherwise pass
 * one approval off as another.
 */
function assertSameCall(prior: RedemptionRow, warrantId: string | null, action: RedemptionAction) {
  if (prior.warrantId !== warrantId || canonicalJson(prior.action) !== canonicalJson(action)) {
    throw new CountersignError<RedeemErrorCode>(
      'IDEMPOTENCY_KEY_REUSED',
      'this idempotency key was used for another warrant or action',
    );
  }
}

/**
 * The answer to a retry the warrant still allows (`checkRetry`): the receipt claims the
 * first redemption recorded in the log, signed again (Ed25519 is deterministic, so with
 * the same key the receipt is the same bytes). Nothing is spent or written.
 */
async function answerAgain(tx: TxPorts, prior: RedemptionRow) {
  const leaf = await tx.log.eventLeaf(prior.eventId);
  const receipt = leaf === null ? undefined : (JSON.parse(leaf) as LogEvent).data.receipt;
  if (!Value.Check(ReceiptSchema, receipt)) {
    throw new Error(`redemption ${prior.id} has no receipt in its log event`);
  }
  return allowed(receipt);
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
  input: RedeemInput,
): Promise<RedeemAllowed> {
  const { warrant: token, action, idempotencyKey = null } = input;
  const identity = await spendExecutorToken(ctx, executor);
  const proof = identityProof(executor);
  const now = ctx.clock.now();
  const at = now.toISOString();
  const keys = ctx.keys();
  const verified = await keys.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
  const claims = verified?.claims ?? null;
  // One id for the receipt and, for a brokered warrant, the grant minted under it.
  const id = newReceiptId(now);
  if (claims && !claims.connector && verified?.keyState !== 'revoked' && idempotencyKey === null) {
    const base = {
      id,
      claims,
      action,
      executor: executor.id,
      executorIdentity: identity,
      proof,
      now,
    };
    const receiptClaims = await redeemAtOnce(ctx, keys.activeKid, base);
    if (receiptClaims !== null) {
      const receipt = await keys.signJws(receiptClaims, RECEIPT_TYP);
      return { receipt, ...allowed(receiptClaims).result };
    }
  }
  let staleRing = false;
  // A brokered warrant's redemptions on this node take turns from mint to commit, so that
  // concurrent ones do not each mint a credential only one use can be spent on.
  const { minting, outcome } = await takingTurns(
    ctx.store,
    claims?.connector ? claims.jti : null,
    async () => {
      const minting = await mintIfAllowed(ctx, {
        claims,
        keyRevoked: verified?.keyState === 'revoked',
        action,
        executor: executor.id,
        executorIdentity: identity,
        now,
        idempotencyKey,
        grantId: id,
      });
      const outcome = await ctx.store.transaction(async (tx) => {
        // A retry racing its first attempt, or a revocation, then shows here rather than
        // as a refused `consumeUse`, which could only say WARRANT_EXHAUSTED.
        const rec = claims ? await tx.warrants.getLocked(claims.jti) : null;
        // Another node may have revoked the key since this one read its ring.
        staleRing =
          verified !== null &&
          verified.keyState !== 'revoked' &&
          (await tx.keys.isRevoked(verified.kid));
        const checked = {
          claims,
          keyRevoked: verified?.keyState === 'revoked' || staleRing,
          record: rec,
          action,
          executor: executor.id,
          executorIdentity: identity,
          now,
        };
        if (idempotencyKey !== null) {
          const prior = await tx.warrants.allowedByKey(executor.id, idempotencyKey);
          if (prior) assertSameCall(prior, claims?.jti ?? null, action);
          // A retry is answered again only while the warrant would still allow it now (but
          // for the use its first attempt spent); otherwise it is refused and recorded below.
          if (prior && checkRetry(checked).kind === 'allow') {
            // A retry raced its first attempt here: the credential minted for it goes unused.
            if (minting?.kind === 'minted') await tx.grants.abandon(id, at);
            return answerAgain(tx, prior);
          }
        }
        let decision: RedemptionDecision = checkRedemption(checked);
        if (decision.kind === 'allow' && minting?.kind === 'failed') {
          decision = { kind: 'deny', code: 'CONNECTOR_FAILED', reason: minting.reason };
        }
        // Live first, so the row is ours for the rest of the transaction; a grant a sweep
        // took meanwhile (revoked before it was minted) is refused, never handed out.
        if (
          decision.kind === 'allow' &&
          minting?.kind === 'minted' &&
          !(await tx.grants.markLive(id, minting.grant.fingerprint))
        ) {
          decision = {
            kind: 'deny',
            code: 'CONNECTOR_FAILED',
            reason: 'the grant was revoked while it was being minted',
          };
        }
        let use: number | null = null;
        if (decision.kind === 'allow' && rec && claims) {
          // The single-use guarantee: the check above read the count, this spends it.
          use = await tx.warrants.consumeUse(rec.id, claims.max_uses);
          if (use === null) decision = EXHAUSTED;
        }
        const warrantId = rec?.id ?? null;
        const links = rec ? { request: rec.requestId, warrant: rec.id, nhi: rec.claims.sub } : {};
        const redemption = { id, warrantId, executor: executor.id, action, at, idempotencyKey };
        if (decision.kind === 'deny' || !rec || !claims || use === null) {
          // Minted, then refused after all (another redemption took the last use): revoke it.
          if (minting?.kind === 'minted') await tx.grants.abandon(id, at);
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
          ...receiptClaimsOf(
            ctx,
            { id, action, executor: executor.id, proof, now },
            {
              jti: rec.id,
              request_id: rec.requestId,
              sub: rec.claims.sub,
              max_uses: claims.max_uses,
            },
            use,
          ),
          ...(minting?.kind === 'minted'
            ? {
                grant: {
                  connector: minting.connector.name,
                  handle: minting.grant.handle,
                  fingerprint: minting.grant.fingerprint,
                },
              }
            : {}),
        };
        const eventId = await record(tx, 'redemption.allowed', now, executor.id, links, {
          receipt: receiptClaims,
          kid: keys.activeKid,
          ...(idempotencyKey === null ? {} : { idempotencyKey }),
        });
        await tx.warrants.recordRedemption({
          ...redemption,
          outcome: 'allow',
          code: null,
          useNumber: use,
          eventId,
        });
        if (minting?.kind === 'minted') await recordMinted(tx, now, rec, id, minting);
        if (use === claims.max_uses) {
          await tx.requests.transition(rec.requestId, 'approved', 'exhausted', at);
          await record(tx, 'warrant.exhausted', now, 'countersign', links, { uses: use });
        }
        return allowed(receiptClaims);
      });
      return { minting, outcome };
    },
  );
  // Then the ring leaves the JWKS and stops signing with it now, not at its next refresh.
  // A failed read leaves it to that refresh.
  if (staleRing) ctx.keyAdmin.refresh(ctx.store.read.keys).catch(() => undefined);
  if (outcome.kind === 'deny') {
    throw new CountersignError<RedemptionDenialCode>(outcome.code, outcome.reason);
  }
  // Signed after the commit, off the event loop and outside the batch: the event holds the
  // claims and the kid, and Ed25519 is deterministic, so the receipt is exactly the one the
  // log describes. A crash in between leaves a spent use without a receipt, as a crash
  // before the answer is written would.
  const receipt = await keys.signJws(outcome.receiptClaims, RECEIPT_TYP);
  // A brokered grant's credential: in this answer, once, and nowhere else.
  const fresh = minting?.kind === 'minted' && outcome.receiptClaims.jti === id;
  return { receipt, ...outcome.result, ...(fresh ? { credential: minting.grant.credential } : {}) };
}
