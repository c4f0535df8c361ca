import { exceptionsReport, type ExceptionEntry } from '../reconcile/exceptions.js';
import type { ServiceContext } from './context.js';

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
  const ful = await s.eventIdsOf(
    'fulfilments',
    entries.flatMap((e) => e.targets.flatMap((t) => t.evidence.fulfilments)),
  );
  const obs = await s.eventIdsOf(
    'observations',
    entries.flatMap((e) => e.targets.flatMap((t) => t.evidence.observations)),
  );
  const eventIds = (e: ExceptionEntry): number[] =>
    e.targets.flatMap((t) => [
      ...t.evidence.fulfilments.flatMap((id) => (ful.has(id) ? [ful.get(id) as number] : [])),
      ...t.evidence.observations.flatMap((id) => (obs.has(id) ? [obs.get(id) as number] : [])),
    ]);
  const leaves = await s.leafIndicesOf(entries.flatMap(eventIds));
  return entries.map((e) => ({
    ...e,
    logIndices: eventIds(e)
      .flatMap((id) => (leaves.has(id) ? [leaves.get(id) as number] : []))
      .sort((a, b) => a - b),
  }));
}
