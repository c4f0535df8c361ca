import { describe, expect, it } from 'vitest';
import { legacyDialects, withLegacy } from './legacy.js';

const success = (id: string) => ({
  id,
  request_id: 'req_1',
  warrant_id: 'wrt_1',
  receipt_id: 'rcpt_1',
  executor: 'deploy-eu',
  subject: 'svc:a',
  target: 'eu',
  phase: 'apply',
  outcome: 'success',
  fingerprint: null,
  detail: null,
  at: '2026-03-01T12:00:00.000Z',
  event_id: 1,
});

for (const { dialect, unavailable } of legacyDialects()) {
  describe.skipIf(unavailable !== null)(`migration 005 on ${dialect}`, () => {
    describe('when nodes racing before it stored two successes for one key', () => {
      it('refuses to migrate, naming the key, until one of them is gone', async () => {
        await withLegacy(dialect, '004_identity', async (l) => {
          await l.db
            .insertInto('fulfilments')
            .values([success('ful_1'), success('ful_2')])
            .execute();

          await expect(l.openStore()).rejects.toThrow(
            'migration 005: 1 receipt/target/phase keys hold more than one successful fulfilment (rcpt_1|eu|apply)',
          );

          await l.db.deleteFrom('fulfilments').where('id', '=', 'ful_2').execute();
          await l.db.destroy();
          const store = await l.openStore();
          expect(await store.read.fulfilments.list()).toHaveLength(1);
          await store.close();
        });
      });
    });
  });
}
