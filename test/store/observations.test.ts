import { beforeEach, describe, expect, it } from 'vitest';
import type { NhiId, PrincipalId } from '../../src/core/ids.js';
import type {
  Observation,
  ObservationId,
  ObservedFact,
} from '../../src/observation/observation.js';
import { factKey } from '../../src/observation/observation.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';

const at = (minute: number): string => `2026-03-01T12:${String(minute).padStart(2, '0')}:00.000Z`;

let serial = 0;
const obs = (subject: string, target: string, minute: number, fact: ObservedFact): Observation => ({
  id: `obs_${String(++serial).padStart(4, '0')}` as ObservationId,
  observer: 'countersign' as PrincipalId,
  subject: subject as NhiId,
  target,
  observedAt: at(minute),
  fact,
  receivedAt: at(minute),
});
const grant = (resource: string, present: boolean): ObservedFact => ({
  kind: 'grant',
  resource,
  permission: 'read',
  present,
});

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(`observations on the ${dialect.name} store`, () => {
    let store: Store;
    const storeOf = storePerTest(dialect);
    beforeEach(() => {
      store = storeOf();
    });

    const insert = (...rows: Observation[]) =>
      store.transaction(async (tx) => {
        for (const o of rows) await tx.observations.insert(o, o.id, factKey(o.fact), 1);
      });

    describe('when the newest state at one target is asked for', () => {
      it('answers one observation per subject and fact: the newest, ties broken by id', async () => {
        const first = obs('svc:a', 'appdb', 1, grant('pg/appdb/public/orders', true));
        const later = obs('svc:a', 'appdb', 5, grant('pg/appdb/public/orders', false));
        const other = obs('svc:a', 'appdb', 2, grant('pg/appdb/public/invoices', true));
        const tieA = obs('svc:b', 'appdb', 3, grant('pg/appdb/public/orders', true));
        const tieB = obs('svc:b', 'appdb', 3, grant('pg/appdb/public/orders', false));
        const elsewhere = obs('svc:a', 'otherdb', 9, grant('pg/otherdb/public/orders', true));
        await insert(first, later, other, tieA, tieB, elsewhere);
        const latest = await store.read.observations.latestAt('appdb');
        expect(latest.map((o) => o.id).sort()).toEqual([later.id, other.id, tieB.id].sort());
        expect(latest.find((o) => o.id === later.id)).toEqual(later);
        expect(await store.read.observations.latestAt('nowhere')).toEqual([]);
      });
    });
  });
}
