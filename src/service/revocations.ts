/**
 * The durable revocation schedule: every brokered grant past its due time (the window's
 * end, or earlier on revoke) is revoked through its connector, by exactly one node (a
 * lease claimed in the store), retried with backoff until the connector confirms. Each
 * confirmation is recorded as the revocation fulfilment of the connector's target and as
 * an observation that the grant is gone, so reconciliation's `EXPIRED_NOT_REVOKED`
 * holds while a revocation fails and clears once it succeeds.
 */
import { newFulfilmentId } from '../fulfilment/fulfilment.js';
import type { ReceiptId, WarrantId } from '../core/ids.js';
import { BROKER, BROKER_OBSERVER, connectorReason } from './broker.js';
import { record, type ServiceContext } from './context.js';
import { insertFulfilment } from './fulfil.js';
import { recordObservations } from './observe.js';
import type { GrantRow } from './ports/grants.js';

export interface SweepOptions {
  /** This node's name in leases. */
  readonly node: string;
  /** How long a claim holds off other nodes (longer than one revocation takes). */
  readonly leaseMs?: number;
  /** A pending grant older than this lost its answer: revoke what it may have made. */
  readonly pendingAfterMs?: number;
}

export interface SweepResult {
  readonly revoked: number;
  readonly failed: number;
}

/** Backoff after `attempts` failures: 2 s doubling, at most 5 minutes. */
const backoffMs = (attempts: number): number => Math.min(2_000 * 2 ** attempts, 300_000);

export async function sweepRevocations(ctx: ServiceContext, o: SweepOptions): Promise<SweepResult> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const stale = new Date(now.getTime() - (o.pendingAfterMs ?? 60_000)).toISOString();
  let revoked = 0;
  let failed = 0;
  for (const row of await ctx.store.read.grants.overdue(at, stale)) {
    // From each claim, not the sweep's start: a long sweep's later claims would otherwise
    // hold leases already lapsed, and another node could take the grant at once.
    const leaseUntil = new Date(ctx.clock.now().getTime() + (o.leaseMs ?? 60_000)).toISOString();
    const claimed = await ctx.store.transaction(async (tx) => {
      // A lost answer's grant is due at once, whatever its window says.
      if (row.state === 'pending') await tx.grants.dueNow(row.id, at);
      return tx.grants.claim(row.id, o.node, at, leaseUntil);
    });
    if (!claimed) continue;
    const connector = ctx.connectors?.get(row.connector);
    try {
      if (connector === undefined) throw new Error(`connector ${row.connector} is not configured`);
      await connector.revoke(row.handle);
    } catch (e) {
      const reason = connector === undefined ? (e as Error).message : connectorReason(e);
      // From the failure: a call that hung until its timeout would otherwise retry at once.
      const next = new Date(ctx.clock.now().getTime() + backoffMs(row.attempts)).toISOString();
      await ctx.store.transaction((tx) => tx.grants.recordFailure(row.id, o.node, reason, next));
      failed += 1;
      continue;
    }
    if (await confirm(ctx, row)) revoked += 1;
  }
  return { revoked, failed };
}

/**
 * The connector confirmed: the grant is revoked, reported and observed gone. False, with
 * nothing recorded, when another node's confirmation came first (its lease lapsed while
 * this one's connector call ran).
 */
async function confirm(ctx: ServiceContext, row: GrantRow): Promise<boolean> {
  // When the connector answered, which is what `afterWindow` and the record must say: the
  // sweep's start can be long before (earlier grants' calls, a slow connector).
  const now = ctx.clock.now();
  const at = now.toISOString();
  const warrant = await ctx.store.read.warrants.get(row.warrantId as WarrantId);
  const links = { request: row.requestId, warrant: row.warrantId, nhi: row.subject };
  const first = await ctx.store.transaction(async (tx) => {
    if (!(await tx.grants.markRevoked(row.id, at))) return false;
    await record(tx, 'grant.revoked', now, BROKER, links, {
      grant: row.id,
      connector: row.connector,
      handle: row.handle,
      wasLive: row.state === 'live',
    });
    if (row.state !== 'live' || warrant === null) return true;
    await insertFulfilment(
      tx,
      now,
      BROKER,
      {
        id: newFulfilmentId(),
        requestId: warrant.requestId,
        warrantId: warrant.id,
        receiptId: row.id as ReceiptId,
        executor: BROKER,
        subject: warrant.claims.sub,
        target: row.connector,
        phase: 'revoke',
        outcome: 'success',
        fingerprint: null,
        detail: `revoked ${row.handle} through connector ${row.connector}`,
        at,
      },
      at > warrant.notAfter,
    );
    return true;
  });
  if (!first) return false;
  if (warrant === null) return true;
  // What the connector now shows: each approved grant absent at its target.
  await recordObservations(
    ctx,
    BROKER_OBSERVER,
    warrant.claims.scope.flatMap((e) =>
      e.permissions.map((permission) => ({
        subject: warrant.claims.sub,
        target: row.connector,
        observedAt: at,
        fact: { kind: 'grant' as const, resource: e.resource, permission, present: false },
      })),
    ),
  );
  return true;
}
