import { sha256Hex } from '../core/crypto.js';
import { newReceiptId } from '../core/ids.js';
import type { Principal } from '../identity/principal.js';
import { identityProof } from '../identity/proof.js';
import type { RedemptionDenialCode } from '../redemption/redemption.js';
import { WARRANT_TYP, WarrantClaimsSchema } from '../warrant/warrant.js';
import { record, type ServiceContext } from './context.js';
import { spendExecutorToken } from './redeem.js';

/** The denial code of a redemption whose body could not be read, validated or canonicalised. */
const MALFORMED: RedemptionDenialCode = 'REDEMPTION_MALFORMED';
/** The longest warrant the redemption body accepts; anything longer is not looked at. */
const MAX_WARRANT_LENGTH = 16_384;

/** A redemption the HTTP edge refused after it had authenticated the caller. */
export interface RefusedRedemption {
  /** The body bytes as received, or null when none were read (a refused content coding or type). */
  readonly body: Uint8Array | null;
  /** The code of the problem the caller is answered with (`LONE_SURROGATE`, `VALIDATION_FAILED`…). */
  readonly problem: string;
}

/**
 * Records a redemption refused before it could be checked, so that probing with bodies
 * the server cannot read still reaches the log and counts towards `REDEMPTION_ABUSE`:
 * a `redemptions` row and a `redemption.denied` event with code `REDEMPTION_MALFORMED`,
 * in one transaction. When the body names, in a `warrant` field, a warrant this server
 * signed and holds, both are linked to it.
 *
 * The event holds digests, never the body or the warrant: an unreadable body may hold
 * exactly the text that cannot be canonicalised, and a warrant is a bearer credential.
 *
 * A federated caller's token is spent first, as `redeem` spends it: a token reaches the
 * redemption endpoint at most once, whatever the outcome, so one captured token yields
 * one recorded refusal rather than any number, and a replay is refused with
 * `TOKEN_REPLAYED` with nothing written.
 */
export async function recordRefusedRedemption(
  ctx: ServiceContext,
  executor: Principal,
  refused: RefusedRedemption,
): Promise<void> {
  await spendExecutorToken(ctx, executor);
  const token = presentedWarrant(refused.body);
  const verified =
    token === null ? null : await ctx.keys().verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
  const claims = verified?.claims ?? null;
  const now = ctx.clock.now();
  await ctx.store.transaction(async (tx) => {
    const held = claims ? await tx.warrants.get(claims.jti) : null;
    const rec = held !== null && held.requestId === claims?.request_id ? held : null;
    const links = rec ? { request: rec.requestId, warrant: rec.id, nhi: rec.claims.sub } : {};
    const eventId = await record(tx, 'redemption.denied', now, executor.id, links, {
      code: MALFORMED,
      problem: refused.problem,
      ...(refused.body === null ? {} : { bodySha256: sha256Hex(refused.body) }),
      // Identifies the presented token without recording it.
      ...(token === null ? {} : { tokenSha256: sha256Hex(token) }),
      executor_identity: identityProof(executor),
      ...(claims ? { claimedWarrant: claims.jti } : {}),
    });
    await tx.warrants.recordRedemption({
      id: newReceiptId(now),
      warrantId: rec?.id ?? null,
      outcome: 'deny',
      code: MALFORMED,
      useNumber: null,
      executor: executor.id,
      action: null,
      at: now.toISOString(),
      eventId,
    });
  });
}

/**
 * The `warrant` string of a body read leniently: it was refused by the strict parser or
 * the schema, yet still names the warrant being probed. Anything else gives null.
 */
function presentedWarrant(body: Uint8Array | null): string | null {
  if (body === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(body)) as unknown;
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const warrant = (value as Record<string, unknown>).warrant;
  return typeof warrant === 'string' && warrant.length <= MAX_WARRANT_LENGTH ? warrant : null;
}
