import { CountersignError } from '../core/errors.js';
import type { Principal } from '../identity/principal.js';
import { identityProof } from '../identity/proof.js';
import type { SigningKeyRecord } from '../keys/keyring.js';
import type { KeyErrorCode } from '../keys/seal.js';
import type { TxPorts } from './ports/store.js';
import { screenFreeText } from '../core/secrets.js';
import { record, type ServiceContext } from './context.js';

export interface RotationResult {
  /** The new active key. */
  readonly kid: string;
  /** The keys that were active before and are now retired (verify-only). */
  readonly retired: readonly string[];
  readonly at: string;
}

export interface RevocationResult {
  readonly kid: string;
  readonly revokedAt: string;
  /** The key that took over signing, when the revoked key was the active one. */
  readonly replacedBy: string | null;
}

/**
 * Makes `fresh` the active key and retires the active one, with its `key.rotated`
 * event, inside the caller's transaction. A retired key signs nothing more but stays
 * in the JWKS and among the log verifier keys, so everything it signed still verifies.
 */
async function promote(
  tx: TxPorts,
  actor: Principal,
  now: Date,
  fresh: SigningKeyRecord,
  reason: string | null,
): Promise<string[]> {
  // On PostgreSQL, nodes rotating at once would each retire the old key and leave two active.
  await tx.keys.lock();
  const retired = (await tx.keys.list()).filter((k) => k.state === 'active').map((k) => k.kid);
  for (const kid of retired) await tx.keys.setState(kid, 'retired', now.toISOString());
  await tx.keys.insert(fresh);
  await record(
    tx,
    'key.rotated',
    now,
    actor.id,
    {},
    {
      kid: fresh.kid,
      publicJwk: JSON.parse(fresh.publicJwk) as unknown,
      retired,
      reason,
      actorIdentity: identityProof(actor),
    },
  );
  return retired;
}

/**
 * Runs a change to the signing keys in one transaction and swaps the server's key ring
 * as its last step, before the commit: whatever is serialised after it (a checkpoint in
 * the same group commit, the next warrant) already signs with the new active key, and
 * nothing signs with a revoked key once its revocation is visible. If the transaction
 * fails after all, the ring is reloaded from what the store still holds.
 */
async function changeKeys<T>(ctx: ServiceContext, change: (tx: TxPorts) => Promise<T>): Promise<T> {
  try {
    return await ctx.store.transaction(async (tx) => {
      const out = await change(tx);
      await ctx.keyAdmin.refresh(tx.keys);
      return out;
    });
  } catch (e) {
    await ctx.keyAdmin.refresh(ctx.store.read.keys);
    throw e;
  }
}

/**
 * Rotates the signing key: a new Ed25519 key becomes active for warrants, receipts,
 * checkpoints and DSSE, in one transaction with its log event, and the running
 * server swaps its key ring.
 */
export async function rotateSigningKey(
  ctx: ServiceContext,
  actor: Principal,
  reason: string | null,
): Promise<RotationResult> {
  screenFreeText({ reason });
  const now = ctx.clock.now();
  const fresh = await ctx.keyAdmin.newKey(now);
  const retired = await changeKeys(ctx, (tx) => promote(tx, actor, now, fresh, reason));
  return { kid: fresh.kid, retired, at: now.toISOString() };
}

/**
 * Marks a compromised key revoked: it leaves the JWKS, and every warrant it signed is
 * refused with `KEY_REVOKED`. Revoking the active key first rotates to a new one in
 * the same transaction, so the server never stands without a signing key.
 */
export async function revokeSigningKey(
  ctx: ServiceContext,
  actor: Principal,
  kid: string,
  reason: string,
): Promise<RevocationResult> {
  screenFreeText({ reason });
  const now = ctx.clock.now();
  const at = now.toISOString();
  const fresh = await ctx.keyAdmin.newKey(now);
  const replacedBy = await changeKeys(ctx, async (tx) => {
    await tx.keys.lock();
    const key = (await tx.keys.list()).find((k) => k.kid === kid);
    if (!key) {
      throw new CountersignError<KeyErrorCode>('KEY_NOT_FOUND', 'no signing key has this kid');
    }
    if (key.state === 'revoked') {
      throw new CountersignError<KeyErrorCode>('KEY_ALREADY_REVOKED', 'the key is already revoked');
    }
    const successor = key.state === 'active' ? fresh.kid : null;
    if (successor !== null) await promote(tx, actor, now, fresh, `revocation of ${kid}`);
    await tx.keys.setState(kid, 'revoked', at);
    // Its warrants are refused from now on, so the credentials minted for them end now too.
    const grantsDue = await tx.grants.dueByKey(kid, at);
    await record(
      tx,
      'key.revoked',
      now,
      actor.id,
      {},
      { kid, reason, replacedBy: successor, grantsDue, actorIdentity: identityProof(actor) },
    );
    return successor;
  });
  return { kid, revokedAt: at, replacedBy };
}
