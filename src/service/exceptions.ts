import { exceptionsReport, type ExceptionEntry } from '../reconcile/exceptions.js';
import type { ServiceContext } from './context.js';
import { logIndicesOf } from './evidence-indices.js';

export interface ExceptionView extends ExceptionEntry {
  /** Log indices of the fulfilments and observations each target's state rests on. */
  readonly logIndices: readonly number[];
}

/**
 * Every approved time-boxed grant (an exception) since `since`, and whether it was
 * revoked on every target, with the log indices that prove it.
 */
export async function exceptionsSince(
  ctx: ServiceContext,
  since: Date | null,
): Promise<ExceptionView[]> {
  const s = ctx.store;
  const grants = (await s.listApprovedGrants()).filter(
    (g) => since === null || Date.parse(g.notAfter) >= since.getTime(),
  );
  const entries = exceptionsReport(
    grants,
    await s.listFulfilments(),
    await s.listObservations(),
    ctx.clock.now(),
  );
  const indices = await logIndicesOf(
    s,
    entries.map((e) => ({
      fulfilments: e.targets.flatMap((t) => t.evidence.fulfilments),
      observations: e.targets.flatMap((t) => t.evidence.observations),
    })),
  );
  return entries.map((e, i) => ({ ...e, logIndices: indices[i] ?? [] }));
}
