/**
 * Brokered grants at redemption: countersign mints the credential itself, through the
 * connector the warrant names. The grant row is written before the connector is asked,
 * so a grant whose answer was lost is found and revoked (revocations.ts); the
 * credential goes back to the executor once, and only its fingerprint and handle are
 * signed and logged.
 */
import type { Connector, Grant } from '../connectors/connector.js';
import { isCountersignError } from '../core/errors.js';
import type { PrincipalId, ReceiptId } from '../core/ids.js';
import type { ApiTokenCaller } from '../identity/principal.js';
import { newFulfilmentId } from '../fulfilment/fulfilment.js';
import { checkRedemption, type RedemptionInput } from '../redemption/check.js';
import type { WarrantClaims, WarrantRecord } from '../warrant/warrant.js';
import type { ServiceContext } from './context.js';
import { insertFulfilment } from './fulfil.js';
import type { TxPorts } from './ports/store.js';

/** Who reports what the broker itself did: the apply at grant, the revocation at the end. */
export const BROKER = 'countersign' as PrincipalId;

/** The broker as the collector of what its connectors' targets hold. */
export const BROKER_OBSERVER: ApiTokenCaller = {
  id: BROKER,
  roles: ['observer'],
  groups: [],
  via: 'api_token',
};

export type Minting =
  | { readonly kind: 'minted'; readonly connector: Connector; readonly grant: Grant }
  | { readonly kind: 'failed'; readonly reason: string };

/** Why a connector failed, fit for the log and the answer: never its secrets. */
export function connectorReason(e: unknown): string {
  // Connector errors are redacted where they are raised; anything else is named only.
  return isCountersignError(e)
    ? e.message.slice(0, 500)
    : `${(e as Error).name} from the connector`;
}

/**
 * Mints the credential of one use of a brokered warrant under `grantId` (the receipt id
 * the redemption will carry). Called only when the check would allow the redemption;
 * the use itself is spent afterwards, in the redemption's own transaction.
 */
export async function mint(
  ctx: ServiceContext,
  claims: WarrantClaims,
  record: WarrantRecord,
  grantId: string,
): Promise<Minting> {
  const name = claims.connector ?? '';
  const connector = ctx.connectors?.get(name);
  if (connector === undefined) {
    return { kind: 'failed', reason: `connector ${name} is not configured on this server` };
  }
  const now = ctx.clock.now().toISOString();
  const dueAt = revocationDue(record.notAfter, now, ctx.revocationLeadMs ?? 0);
  await ctx.store.transaction((tx) =>
    tx.grants.insert({
      id: grantId,
      connector: name,
      warrantId: record.id,
      requestId: record.requestId,
      subject: claims.sub,
      handle: connector.handleFor(grantId),
      fingerprint: null,
      state: 'pending',
      dueAt,
      createdAt: now,
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
      revokedAt: null,
    }),
  );
  try {
    const grant = await connector.grant({
      grantId,
      subject: claims.sub,
      scope: claims.scope,
      notAfter: new Date(record.notAfter),
    });
    return { kind: 'minted', connector, grant };
  } catch (e) {
    // The grant may exist all the same (an answer lost on the way back): revoke it now.
    await ctx.store.transaction((tx) => tx.grants.abandon(grantId, now));
    return { kind: 'failed', reason: connectorReason(e) };
  }
}

/**
 * When a grant's revocation falls due: one sweep interval (`lead`) before the window's
 * end, so that the sweep running in the window's last interval takes the credential
 * away and it is gone by the end, not up to an interval after it. The lead is at most a
 * tenth of what is left of the window, so a short window is not cut to nothing. The
 * credential itself still expires at the end (`VALID UNTIL`).
 */
export function revocationDue(notAfter: string, now: string, lead: number): string {
  const end = Date.parse(notAfter);
  const left = Math.max(0, end - Date.parse(now));
  return new Date(end - Math.min(lead, left / 10)).toISOString();
}

/**
 * For a brokered warrant the check would allow now, the credential, minted before the
 * redemption's transaction (which checks again, then spends the use). Null when the
 * warrant is not brokered, the check refuses (the transaction records why), or an
 * idempotent retry will answer the first redemption (whose credential is never shown again).
 */
export async function mintIfAllowed(
  ctx: ServiceContext,
  input: Omit<RedemptionInput, 'record'> & {
    readonly idempotencyKey: string | null;
    readonly grantId: string;
  },
): Promise<Minting | null> {
  const { claims } = input;
  if (claims?.connector === undefined) return null;
  const read = ctx.store.read;
  if (
    input.idempotencyKey !== null &&
    (await read.warrants.allowedByKey(input.executor, input.idempotencyKey)) !== null
  ) {
    return null;
  }
  const record = await read.warrants.get(claims.jti);
  if (record === null || checkRedemption({ ...input, record }).kind !== 'allow') return null;
  return mint(ctx, claims, record, input.grantId);
}

/**
 * In the redemption's transaction, once the use is spent (and the grant marked live):
 * the broker's own apply is recorded as the fulfilment of the connector's target.
 */
export async function recordMinted(
  tx: TxPorts,
  now: Date,
  rec: WarrantRecord,
  grantId: string,
  minted: Extract<Minting, { kind: 'minted' }>,
): Promise<void> {
  await insertFulfilment(
    tx,
    now,
    BROKER,
    {
      id: newFulfilmentId(),
      requestId: rec.requestId,
      warrantId: rec.id,
      receiptId: grantId as ReceiptId,
      executor: BROKER,
      subject: rec.claims.sub,
      target: minted.connector.name,
      phase: 'apply',
      outcome: 'success',
      fingerprint: minted.grant.fingerprint,
      detail: `credential minted by connector ${minted.connector.name} as ${minted.grant.handle}`,
      at: now.toISOString(),
    },
    false,
  );
}

const turns = new WeakMap<object, Map<string, Promise<unknown>>>();

/**
 * Runs `fn` after every earlier call with the same `key` in the same `scope` has settled
 * (no key: at once). One node's redemptions of one brokered warrant thus mint and spend
 * one at a time; across nodes they still race, and the surplus grants are abandoned and
 * revoked at once (see decision 0021).
 */
export async function takingTurns<T>(
  scope: object,
  key: string | null,
  fn: () => Promise<T>,
): Promise<T> {
  if (key === null) return fn();
  let queue = turns.get(scope);
  if (queue === undefined) turns.set(scope, (queue = new Map<string, Promise<unknown>>()));
  const run = (queue.get(key) ?? Promise.resolve()).then(fn);
  const tail = run.catch(() => undefined);
  queue.set(key, tail);
  try {
    return await run;
  } finally {
    if (queue.get(key) === tail) queue.delete(key);
  }
}
