import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { encodeEvent } from '../../src/log/event.js';
import { auditStore } from '../../src/service/audit-log.js';
import { loadOrCreateKeyRing } from '../../src/service/keys.js';
import { integrateAll } from '../helpers/unapproved-grant.js';
import { legacyDialects, withLegacy } from './legacy.js';

const AT = '2026-02-01T10:00:00.000Z';
const action = { resource: 'db/orders', permission: 'read', environment: 'prod' };

/** A redemption's event as 007 queued it: a row in `events` not yet in the log. */
function queuedEvent(
  id: number,
  type: 'redemption.allowed' | 'redemption.denied',
  data: Record<string, unknown>,
) {
  const e = encodeEvent({ v: 1, type, at: AT, actor: 'deploy-eu', links: {}, data });
  return {
    id,
    type,
    at: AT,
    actor: 'deploy-eu',
    request_id: null,
    warrant_id: null,
    nhi_id: null,
    leaf: e.leaf,
    leaf_hash: e.leafHash,
    leaf_index: null,
  };
}

const redemption = (id: string, outcome: 'allow' | 'deny', code: string | null) => ({
  id,
  warrant_id: outcome === 'allow' ? 'wrt_1' : null,
  outcome,
  code,
  use_number: outcome === 'allow' ? 1 : null,
  executor: 'deploy-eu',
  action: JSON.stringify(action),
  at: AT,
});

for (const { dialect, unavailable } of legacyDialects()) {
  describe.skipIf(unavailable !== null)(`migration 008 on ${dialect}`, () => {
    it('leaves redemptions that name no event, which the state audit matches, and still checks', async () => {
      await withLegacy(dialect, '007_nhi_key', async (l) => {
        const receipt = {
          jti: 'rcp_1',
          warrant_id: 'wrt_1',
          use: 1,
          executor: 'deploy-eu',
          action,
        };
        await l.db
          .insertInto('events')
          .values([
            queuedEvent(1, 'redemption.allowed', { receipt, kid: 'k1' }),
            queuedEvent(2, 'redemption.denied', { code: 'SIGNATURE_INVALID', action }),
          ])
          .execute();
        await l.db
          .insertInto('redemptions')
          .values([
            redemption('rcp_1', 'allow', null),
            redemption('rcp_2', 'deny', 'SIGNATURE_INVALID'),
          ])
          .execute();
        const store = await l.openStore();
        try {
          const clock = new ManualClock(AT);
          await integrateAll(
            store,
            clock,
            await loadOrCreateKeyRing(store, randomBytes(32), clock),
          );
          const honest = await auditStore(store);
          expect(honest.state?.divergences).toEqual([]);
          expect(honest.state?.records.redemptions).toBe(2);

          await l.db
            .updateTable('redemptions')
            .set({ code: 'EXECUTOR_MISMATCH' })
            .where('id', '=', 'rcp_2')
            .execute();
          await l.db
            .updateTable('redemptions')
            .set({ executor: 'mallory' })
            .where('id', '=', 'rcp_1')
            .execute();
          const edited = await auditStore(store);
          expect(edited.state?.divergences.map((d) => d.detail)).toEqual([
            'redemption rcp_1 in the redemptions table: executor is "mallory", the log says "deploy-eu"',
            'redemption rcp_2 is in the redemptions table but not in the log',
            'the denied redemption logged at entry 1 is in the log but missing from the redemptions table',
          ]);
        } finally {
          await store.close();
        }
      });
    });
  });
}
