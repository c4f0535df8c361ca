/** An observation of a grant no warrant approved: the smallest state a finding comes from. */
import type { Clock } from '../../src/core/clock.js';
import type { NhiId, PrincipalId } from '../../src/core/ids.js';
import type { KeyRing } from '../../src/keys/keyring.js';
import { encodeEvent } from '../../src/log/event.js';
import type { Observation, ObservationId } from '../../src/observation/observation.js';
import { integrateBatch } from '../../src/service/integrate.js';
import type { Store } from '../../src/service/ports/store.js';

export const AT = '2026-01-01T00:00:00.000Z';

/** An observation of a grant no warrant approved, with its queued event. */
export async function observeUnapprovedGrant(store: Store, id: string): Promise<number> {
  const o: Observation = {
    id: id as ObservationId,
    observer: 'collector' as PrincipalId,
    subject: 'svc:reports' as NhiId,
    target: 'eu',
    observedAt: AT,
    fact: { kind: 'grant', resource: `db/${id}`, permission: 'write', present: true },
    receivedAt: AT,
  };
  return store.transaction(async (tx) => {
    const eventId = await tx.log.append(
      encodeEvent({
        v: 1,
        type: 'observation.recorded',
        at: AT,
        actor: 'collector',
        links: { nhi: o.subject },
        data: { id: o.id },
      }),
    );
    await tx.observations.insert(o, `key-${id}`, `grant|${id}`, eventId);
    return eventId;
  });
}

/** Puts every queued event in the log, so a finding's proof is complete. */
export async function integrateAll(store: Store, clock: Clock, ring: KeyRing): Promise<void> {
  const ctx = { store, clock, keys: () => ring, origin: 'countersign.test/log' };
  while ((await integrateBatch(ctx)).integrated > 0);
}
