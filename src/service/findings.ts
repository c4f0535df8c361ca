import { CountersignError } from '../core/errors.js';
import type { Principal } from '../identity/principal.js';
import {
  proofIndices,
  transitionFinding,
  type Finding,
  type FindingState,
} from '../reconcile/finding.js';
import { record, type ServiceContext } from './context.js';

export type FindingsErrorCode = 'FINDING_UNKNOWN';

/**
 * A finding as the API shows it: `evidence` holds the log indices of its proof by
 * role, and `logIndices` all of them, ascending.
 */
export interface FindingView extends Finding {
  readonly logIndices: readonly number[];
}

const view = (f: Finding): FindingView => ({ ...f, logIndices: proofIndices(f.evidence) });

export async function listFindings(
  ctx: ServiceContext,
  state: FindingState | undefined,
  limit: number,
): Promise<FindingView[]> {
  // Evidence is shown as log indices: integrate what is queued so every index exists.
  await ctx.integrateLog();
  return (await ctx.store.read.findings.list(state, limit)).map(view);
}

/**
 * Acknowledges or resolves a finding with a reason. Resolution is a log event and the
 * finding stays on record; nothing is deleted.
 */
export async function decideFinding(
  ctx: ServiceContext,
  actor: Principal,
  id: string,
  action: 'acknowledge' | 'resolve',
  reason: string,
): Promise<FindingView> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const updated = await ctx.store.transaction(async (tx) => {
    const f = await tx.findings.get(id);
    if (!f) throw new CountersignError<FindingsErrorCode>('FINDING_UNKNOWN', 'no such finding');
    const state = transitionFinding(f.state, action);
    const resolution =
      action === 'resolve' ? { by: actor.id, reason, at, automatic: false } : f.resolution;
    await tx.findings.update(f.id, state, resolution, at);
    await record(
      tx,
      action === 'resolve' ? 'finding.resolved' : 'finding.acknowledged',
      now,
      actor.id,
      {
        ...(f.requestId ? { request: f.requestId } : {}),
        ...(f.warrantId ? { warrant: f.warrantId } : {}),
        nhi: f.subject,
      },
      { id: f.id, kind: f.kind, key: f.key, reason },
    );
    return { ...f, state, resolution, updatedAt: at };
  });
  return view(updated);
}
