import { CountersignError } from '../core/errors.js';
import { approvedTargets } from '../core/vocabulary.js';
import type { Principal } from '../identity/principal.js';
import type { NhiErrorCode } from '../nhi/nhi.js';
import {
  factKey,
  newObservationId,
  validateObservation,
  type Observation,
  type ObservationInput,
  type ValidObservation,
} from '../observation/observation.js';
import type { TxPorts } from './ports/store.js';
import { record, type ServiceContext } from './context.js';
import { findNhi } from './nhis.js';

export type ObserveErrorCode = 'OBSERVATION_DUPLICATE';

export interface ObserveResult {
  readonly recorded: number;
  readonly duplicates: number;
  readonly ids: readonly string[];
}

/** The newest warrant of the subject approved for this target, to link the event to its request. */
async function linkFor(
  tx: TxPorts,
  o: ValidObservation,
): Promise<{ request?: string; warrant?: string }> {
  const grant = (await tx.reconciliation.grantsForSubject(o.subject)).find((g) =>
    approvedTargets(g.targets).includes(o.target),
  );
  return grant ? { request: grant.requestId, warrant: grant.warrantId } : {};
}

/** Shape checks only: the order against recorded observations is checked in the transaction. */
const unordered = (now: Date) => ({ now, latestObservedAt: () => null });

/**
 * Records a batch of observations from a collector, all or nothing. A re-sent
 * observation (same subject, target, time and fact) is recognised and recorded once;
 * the same observation twice in one batch (also when spelled with two variants of
 * the subject's id, which resolve to the registered one), an observation older than one already
 * recorded for the same fact, or an unregistered subject refuses the whole batch.
 */
export async function recordObservations(
  ctx: ServiceContext,
  observer: Principal,
  inputs: readonly ObservationInput[],
): Promise<ObserveResult> {
  const now = ctx.clock.now();
  // Shape first, outside the transaction: a malformed batch costs no lock.
  const shaped = inputs.map((i) => validateObservation(i, unordered(now)));
  const batchDuplicate = (): CountersignError<ObserveErrorCode> =>
    new CountersignError('OBSERVATION_DUPLICATE', 'the batch holds the same observation twice');
  const keys = new Set<string>();
  for (const o of shaped) {
    if (keys.has(o.key)) throw batchDuplicate();
    keys.add(o.key);
  }
  return ctx.store.transaction(async (tx) => {
    const latest = new Map<string, string>();
    const fresh: ValidObservation[] = [];
    const seen = new Set<string>();
    let duplicates = 0;
    for (const [i, shape] of shaped.entries()) {
      const nhi = await findNhi(tx, shape.subject);
      if (!nhi) {
        throw new CountersignError<NhiErrorCode>(
          'NHI_UNKNOWN',
          `observation ${i}: subject is not a registered NHI`,
        );
      }
      // Recorded under the registered id, so that reconciliation meets its warrants.
      const input = { ...(inputs[i] as ObservationInput), subject: nhi.id };
      const s = nhi.id === shape.subject ? shape : validateObservation(input, unordered(now));
      if (seen.has(s.key)) throw batchDuplicate();
      seen.add(s.key);
      if (await tx.observations.exists(s.key)) {
        duplicates += 1;
        continue;
      }
      const at = `${s.subject}|${s.target}|${factKey(s.fact)}`;
      if (!latest.has(at))
        latest.set(
          at,
          (await tx.observations.latestObservedAt(s.subject, s.target, factKey(s.fact))) ?? '',
        );
      const v = validateObservation(input, {
        now,
        latestObservedAt: () => latest.get(at) || null,
      });
      if (v.observedAt > (latest.get(at) ?? '')) latest.set(at, v.observedAt);
      fresh.push(v);
    }
    const ids: string[] = [];
    for (const v of fresh) {
      const o: Observation = {
        id: newObservationId(),
        observer: observer.id,
        subject: v.subject,
        target: v.target,
        observedAt: v.observedAt,
        fact: v.fact,
        receivedAt: now.toISOString(),
      };
      const links = { ...(await linkFor(tx, v)), nhi: o.subject };
      const eventId = await record(tx, 'observation.recorded', now, observer.id, links, {
        id: o.id,
        target: o.target,
        observedAt: o.observedAt,
        fact: o.fact,
      });
      await tx.observations.insert(o, v.key, factKey(v.fact), eventId);
      ids.push(o.id);
    }
    return { recorded: fresh.length, duplicates, ids };
  });
}
