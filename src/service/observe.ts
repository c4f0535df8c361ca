import { CountersignError } from '../core/errors.js';
import { approvedTargets } from '../fulfilment/fulfilment.js';
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
import type { Repo } from '../store/store.js';
import { record, type ServiceContext } from './context.js';

export type ObserveErrorCode = 'OBSERVATION_DUPLICATE';

export interface ObserveResult {
  readonly recorded: number;
  readonly duplicates: number;
  readonly ids: readonly string[];
}

/** The newest warrant of the subject approved for this target, to link the event to its request. */
async function linkFor(
  tx: Repo,
  o: ValidObservation,
): Promise<{ request?: string; warrant?: string }> {
  const grant = (await tx.grantsForSubject(o.subject)).find((g) =>
    approvedTargets(g.targets).includes(o.target),
  );
  return grant ? { request: grant.requestId, warrant: grant.warrantId } : {};
}

/**
 * Records a batch of observations from a collector, all or nothing. A re-sent
 * observation (same subject, target, time and fact) is recognised and recorded once;
 * the same observation twice in one batch, an observation older than one already
 * recorded for the same fact, or an unregistered subject refuses the whole batch.
 */
export async function recordObservations(
  ctx: ServiceContext,
  observer: Principal,
  inputs: readonly ObservationInput[],
): Promise<ObserveResult> {
  const now = ctx.clock.now();
  // Shape first, outside the transaction: a malformed batch costs no lock.
  const shaped = inputs.map((i) => validateObservation(i, { now, latestObservedAt: () => null }));
  const keys = new Set<string>();
  for (const o of shaped) {
    if (keys.has(o.key)) {
      throw new CountersignError<ObserveErrorCode>(
        'OBSERVATION_DUPLICATE',
        'the batch holds the same observation twice',
      );
    }
    keys.add(o.key);
  }
  return ctx.store.transaction(async (tx) => {
    const latest = new Map<string, string>();
    const fresh: ValidObservation[] = [];
    let duplicates = 0;
    for (const [i, s] of shaped.entries()) {
      if (await tx.observationExists(s.key)) {
        duplicates += 1;
        continue;
      }
      if (!(await tx.getNhi(s.subject))) {
        throw new CountersignError<NhiErrorCode>(
          'NHI_UNKNOWN',
          `observation ${i}: subject is not a registered NHI`,
        );
      }
      const at = `${s.subject}|${s.target}|${factKey(s.fact)}`;
      if (!latest.has(at))
        latest.set(at, (await tx.latestObservedAt(s.subject, s.target, factKey(s.fact))) ?? '');
      const v = validateObservation(inputs[i] as ObservationInput, {
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
      await tx.insertObservation(o, v.key, factKey(v.fact), eventId);
      ids.push(o.id);
    }
    return { recorded: fresh.length, duplicates, ids };
  });
}
