import { CountersignError } from '../core/errors.js';
import type { Principal } from '../identity/principal.js';
import {
  proofIndices,
  transitionFinding,
  type Finding,
  type FindingKind,
  type FindingState,
} from '../reconcile/finding.js';
import { record, type ServiceContext } from './context.js';
import { screenFreeText } from '../core/secrets.js';
import type { TxPorts } from './ports/store.js';
import { decodeCursor, encodeCursor } from './request-list.js';

export type FindingsErrorCode = 'FINDING_UNKNOWN';

/**
 * A finding as the API shows it: `evidence` holds the log indices of its proof by
 * role, and `logIndices` all of them, ascending.
 */
export interface FindingView extends Finding {
  readonly logIndices: readonly number[];
}

const view = (f: Finding): FindingView => ({ ...f, logIndices: proofIndices(f.evidence) });

export interface FindingPage {
  readonly findings: readonly FindingView[];
  readonly nextCursor: string | null;
}

/**
 * One page of findings, newest first, filtered by state, kind and subject; the cursor
 * is the last finding of the previous page, so a page costs its own length.
 */
export async function listFindingPage(
  ctx: ServiceContext,
  f: {
    readonly state?: FindingState | undefined;
    readonly kind?: FindingKind | undefined;
    readonly subject?: string | undefined;
    readonly cursor?: string | undefined;
    readonly limit: number;
  },
): Promise<FindingPage> {
  await ctx.integrateLog();
  const after = f.cursor === undefined ? undefined : decodeCursor(f.cursor);
  const rows = await ctx.store.read.findings.page({
    ...(f.state ? { state: f.state } : {}),
    ...(f.kind ? { kind: f.kind } : {}),
    ...(f.subject === undefined ? {} : { subject: f.subject }),
    ...(after ? { after: { raisedAt: after.createdAt, id: after.id } } : {}),
    limit: f.limit + 1,
  });
  const page = rows.slice(0, f.limit);
  const last = page.at(-1);
  return {
    findings: page.map(view),
    nextCursor:
      rows.length > f.limit && last
        ? encodeCursor({ createdAt: last.raisedAt, id: last.id })
        : null,
  };
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
  screenFreeText({ reason });
  const now = ctx.clock.now();
  const at = now.toISOString();
  const updated = await ctx.store.transaction(async (tx) => {
    // The update is conditional on the state read: on PostgreSQL a concurrent transition
    // makes it miss, and the next pass judges this one against the state that call left
    // (an acknowledgement racing a resolution is then resolved, as it would be in turn).
    for (;;) {
      const f = await tx.findings.get(id);
      if (!f) throw new CountersignError<FindingsErrorCode>('FINDING_UNKNOWN', 'no such finding');
      const state = transitionFinding(f.state, action);
      const resolution =
        action === 'resolve' ? { by: actor.id, reason, at, automatic: false } : f.resolution;
      if (await tx.findings.update(f.id, f.state, state, resolution, at)) {
        const decided = { ...f, state, resolution, updatedAt: at };
        await recordDecision(tx, decided, action, now, actor.id, reason);
        return decided;
      }
    }
  });
  return view(updated);
}

/** The links of a finding's log events: its request and warrant when known, its subject. */
export const findingLinks = (f: {
  readonly requestId: string | null;
  readonly warrantId: string | null;
  readonly subject: string;
}) => ({
  ...(f.requestId ? { request: f.requestId } : {}),
  ...(f.warrantId ? { warrant: f.warrantId } : {}),
  nhi: f.subject,
});

/** The decision's event, in the transaction that moved the finding. */
function recordDecision(
  tx: TxPorts,
  f: Finding,
  action: 'acknowledge' | 'resolve',
  now: Date,
  actor: string,
  reason: string,
): Promise<number> {
  return record(
    tx,
    action === 'resolve' ? 'finding.resolved' : 'finding.acknowledged',
    now,
    actor,
    findingLinks(f),
    { id: f.id, kind: f.kind, key: f.key, reason },
  );
}
