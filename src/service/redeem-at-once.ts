/**
 * The common redemption in one store call (decision 0025): a warrant that brokers
 * nothing, redeemed without an idempotency key, whose presented checks pass. Anything
 * else, or a row that admits no use, falls back to the full path in `redeem.ts`, which
 * decides again from the row and records the refusal with its code.
 */
import { epochSeconds } from '../core/clock.js';
import type { PrincipalId, ReceiptId } from '../core/ids.js';
import type { VerifiedIdentity } from '../identity/oidc/identity.js';
import type { IdentityProof } from '../core/vocabulary.js';
import { encodeEvent, openEvent } from '../log/event.js';
import { checkPresented } from '../redemption/check.js';
import type { ReceiptClaims } from '../redemption/receipt.js';
import type { RedemptionAction } from '../redemption/redemption.js';
import type { WarrantClaims } from '../warrant/warrant.js';
import type { ServiceContext } from './context.js';

export interface AtOnceInput {
  readonly id: ReceiptId;
  readonly claims: WarrantClaims;
  readonly action: RedemptionAction;
  readonly executor: PrincipalId;
  readonly executorIdentity: VerifiedIdentity | null;
  readonly proof: IdentityProof;
  readonly now: Date;
}

/** The receipt's claims: what the `redemption.allowed` event records and the executor gets signed. */
export function receiptClaimsOf(
  ctx: Pick<ServiceContext, 'issuer'>,
  input: Omit<AtOnceInput, 'claims' | 'executorIdentity'>,
  warrant: Pick<WarrantClaims, 'jti' | 'request_id' | 'sub' | 'max_uses'>,
  use: number,
): ReceiptClaims {
  return {
    iss: ctx.issuer,
    jti: input.id,
    iat: epochSeconds(input.now),
    warrant_id: warrant.jti,
    request_id: warrant.request_id,
    sub: warrant.sub,
    use,
    max_uses: warrant.max_uses,
    action: input.action,
    executor: input.executor,
    executor_identity: input.proof,
  };
}

/** The allowed receipt's claims, or null when the full path must decide. */
export async function redeemAtOnce(
  ctx: ServiceContext,
  kid: string,
  input: AtOnceInput,
): Promise<ReceiptClaims | null> {
  const { claims, now } = input;
  const presented = checkPresented({
    claims,
    keyRevoked: false,
    action: input.action,
    executor: input.executor,
    executorIdentity: input.executorIdentity,
    now,
  });
  if (presented.kind !== 'allow') return null;
  const at = now.toISOString();
  const links = { request: claims.request_id, warrant: claims.jti, nhi: claims.sub };
  // The receipt id is fresh and random: the marker cannot be in the caller's action.
  const allowed = openEvent(
    (use) => ({
      v: 1,
      type: 'redemption.allowed',
      at,
      actor: input.executor,
      links,
      data: { receipt: { ...receiptClaimsOf(ctx, input, claims, 0), use }, kid },
    }),
    `use-of-${input.id}`,
  );
  if (allowed === null) return null;
  const spent = await ctx.store.spendUse({
    warrantId: claims.jti,
    requestId: claims.request_id,
    signedMaxUses: claims.max_uses,
    at,
    redemption: { id: input.id, executor: input.executor, action: input.action },
    allowed,
    exhausted: () =>
      encodeEvent({
        v: 1,
        type: 'warrant.exhausted',
        at,
        actor: 'countersign',
        links,
        data: { uses: claims.max_uses },
      }),
  });
  return spent === null ? null : receiptClaimsOf(ctx, input, claims, spent.use);
}
