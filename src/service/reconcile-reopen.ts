import type { Finding } from '../reconcile/finding.js';
import { record, type ServiceContext } from './context.js';
import { findingLinks } from './findings.js';
import type { TxPorts } from './ports/store.js';
import type { ReopenedFinding } from './reconcile-plan.js';
import { enqueueWebhook } from './webhooks.js';

/**
 * Opens again, in one batch's transaction, each finding reconciliation had resolved whose
 * condition holds again, each with its `finding.reopened` event and webhook. The event
 * carries this occurrence's detail and proof; the earlier ones stay in the log. A finding
 * reopened by a concurrent pass since the plan's snapshot is skipped, and one a person
 * resolved is never reopened: theirs was a decision, not a condition that cleared.
 */
export async function reopenFindings(
  ctx: Pick<ServiceContext, 'webhooks'>,
  tx: TxPorts,
  batch: readonly ReopenedFinding[],
  now: Date,
): Promise<string[]> {
  const at = now.toISOString();
  const reopened: string[] = [];
  for (const { findingId, finding, proof } of batch) {
    const f = await tx.findings.get(findingId);
    if (f?.state !== 'resolved' || f.resolution?.automatic !== true) continue;
    if (!(await tx.findings.reopen(f.id, f.updatedAt, finding.detail, proof, at))) continue;
    const open: Finding = {
      ...f,
      state: 'open',
      detail: finding.detail,
      evidence: proof,
      updatedAt: at,
      resolution: null,
    };
    await record(tx, 'finding.reopened', now, 'countersign', findingLinks(f), {
      id: f.id,
      kind: f.kind,
      key: f.key,
      target: f.target,
      detail: open.detail,
      evidence: proof,
      after: f.resolution,
    });
    await enqueueWebhook(tx, ctx.webhooks ?? [], 'finding.reopened', now, { finding: open });
    reopened.push(f.id);
  }
  return reopened;
}
