import { newFindingId, type Finding } from '../reconcile/finding.js';
import { reconcile } from '../reconcile/reconcile.js';
import type { Repo } from '../store/store.js';
import { record, type ServiceContext } from './context.js';
import { proofsOf } from './evidence-indices.js';
import { enqueueWebhook } from './webhooks.js';

export interface ReconcileSummary {
  readonly at: string;
  readonly raised: number;
  readonly resolved: number;
  readonly expired: number;
  /** Findings left for the next pass: an event they cite arrived during this one. */
  readonly deferred: number;
  readonly findings: readonly string[];
}

/** Records the end of every warrant window that has passed and is not yet recorded. */
async function recordExpiries(tx: Repo, now: Date): Promise<number> {
  const due = await tx.warrantsToExpire(now.toISOString());
  for (const w of due) {
    await tx.markExpiryRecorded(w.warrantId, now.toISOString());
    await record(
      tx,
      'warrant.expired',
      now,
      'countersign',
      { request: w.requestId, warrant: w.warrantId, nhi: w.subject },
      {
        notAfter: w.notAfter,
      },
    );
  }
  return due.length;
}

/**
 * One reconciliation pass: approved (warrants and windows) against claimed
 * (fulfilments) and observed state. New findings and automatic resolutions are log
 * events written in one transaction with the findings themselves; a finding's key is
 * never raised twice.
 *
 * A finding records its proof as log indices (docs/decisions/0013), so the pass
 * first has `integrate` put every queued event in the log. A finding citing an
 * event that arrived after that is deferred to the next pass, never raised with a
 * partial proof; so the events a finding cites always precede its `finding.raised`.
 */
export async function runReconcile(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'webhooks' | 'reconcile'>,
  integrate: () => Promise<void>,
): Promise<ReconcileSummary> {
  const webhooks = ctx.webhooks ?? [];
  await integrate();
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.store.transaction(async (tx) => {
    const expired = await recordExpiries(tx, now);
    const result = reconcile({
      now,
      grants: await tx.listApprovedGrants(),
      fulfilments: await tx.listFulfilments(),
      observations: await tx.listObservations(),
      redemptions: await tx.listAllowedRedemptions(),
      denials: await tx.listDenials(),
      existing: await tx.existingFindings(),
      ...(ctx.reconcile?.driftGraceMs === undefined
        ? {}
        : { driftGraceMs: ctx.reconcile.driftGraceMs }),
    });
    const proofs = await proofsOf(
      tx,
      result.raise.map((n) => n.evidence),
    );
    const raised: string[] = [];
    let deferred = 0;
    for (const [i, n] of result.raise.entries()) {
      const resolved = proofs[i];
      if (resolved === undefined || resolved.pending) {
        deferred += 1;
        continue;
      }
      const finding: Finding = {
        ...n,
        evidence: resolved.proof,
        id: newFindingId(),
        state: 'open',
        raisedAt: at,
        updatedAt: at,
        resolution: null,
      };
      const links = {
        ...(n.requestId ? { request: n.requestId } : {}),
        ...(n.warrantId ? { warrant: n.warrantId } : {}),
        nhi: n.subject,
      };
      const eventId = await record(tx, 'finding.raised', now, 'countersign', links, {
        id: finding.id,
        kind: finding.kind,
        key: finding.key,
        target: finding.target,
        detail: finding.detail,
        evidence: finding.evidence,
      });
      await tx.insertFinding(finding, eventId);
      await enqueueWebhook(tx, webhooks, 'finding.raised', now, { finding });
      raised.push(finding.id);
    }
    for (const r of result.resolve) {
      const f = await tx.getFinding(r.findingId);
      if (!f || f.state === 'resolved') continue;
      const resolution = { by: 'countersign', reason: r.reason, at, automatic: true };
      await tx.updateFinding(f.id, 'resolved', resolution, at);
      await record(
        tx,
        'finding.resolved',
        now,
        'countersign',
        {
          ...(f.requestId ? { request: f.requestId } : {}),
          ...(f.warrantId ? { warrant: f.warrantId } : {}),
          nhi: f.subject,
        },
        { id: f.id, kind: f.kind, key: f.key, resolution },
      );
    }
    return {
      at,
      raised: raised.length,
      resolved: result.resolve.length,
      expired,
      deferred,
      findings: raised,
    };
  });
}
