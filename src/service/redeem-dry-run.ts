import { CountersignError } from '../core/errors.js';
import type { WarrantId } from '../core/ids.js';
import type { Principal } from '../identity/principal.js';
import { checkRedemption } from '../redemption/check.js';
import type { RedemptionAction, RedemptionDenialCode } from '../redemption/redemption.js';
import { WARRANT_TYP, WarrantClaimsSchema } from '../warrant/warrant.js';
import type { ServiceContext } from './context.js';

export interface DryRunAllowed {
  readonly dryRun: true;
  readonly allowed: true;
  readonly warrantId: WarrantId;
  readonly requestId: string;
  /** The use number a redemption now would spend. */
  readonly use: number;
  readonly maxUses: number;
  readonly remaining: number;
}

/**
 * The redemption check without the redemption: the same verdict `redeem` would give
 * now, with nothing spent, signed or written, and the caller's federated token left
 * unspent (a Kubernetes dry run must have no side effects). A refusal is thrown with
 * its denial code and is not recorded; it records nothing because it changes nothing.
 */
export async function dryRunRedemption(
  ctx: ServiceContext,
  executor: Principal,
  token: string,
  action: RedemptionAction,
): Promise<DryRunAllowed> {
  const verified = await ctx.keys().verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
  const claims = verified?.claims ?? null;
  const rec = claims ? await ctx.store.read.warrants.get(claims.jti) : null;
  const decision = checkRedemption({
    claims,
    keyRevoked: verified?.keyState === 'revoked',
    record: rec,
    action,
    executor: executor.id,
    executorIdentity: executor.via === 'oidc' ? executor.identity : null,
    now: ctx.clock.now(),
  });
  if (decision.kind === 'deny' || !claims || !rec) {
    const [code, reason] =
      decision.kind === 'deny'
        ? [decision.code, decision.reason]
        : (['WARRANT_UNKNOWN', ''] as const);
    throw new CountersignError<RedemptionDenialCode>(code, reason);
  }
  const use = rec.uses + 1;
  return {
    dryRun: true,
    allowed: true,
    warrantId: rec.id,
    requestId: rec.requestId,
    use,
    maxUses: claims.max_uses,
    remaining: claims.max_uses - use,
  };
}
