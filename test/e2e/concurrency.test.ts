import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issueWarrant } from '../helpers/chain.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

describeOnEveryStore('concurrent redemptions over HTTP', (store) => {
  let s: TestServer;
  serveDuringSuite(store, (started) => (s = started));

  describe('when N executors race one warrant with maxUses k', () => {
    it('allows exactly k and refuses the rest with WARRANT_EXHAUSTED', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc
            .integer({ min: 1, max: 5 })
            .chain((k) => fc.tuple(fc.constant(k), fc.integer({ min: k, max: 40 }))),
          async ([k, n]) => {
            const { token, requestId } = await issueWarrant(s, { maxUses: k });
            const body = {
              warrant: token,
              action: { resource: 'db/orders', permission: 'read', environment: 'staging' },
            };
            const results = await Promise.all(
              Array.from({ length: n }, () =>
                s.http('POST', '/v1/redemptions', { as: 'deploy-eu', body }),
              ),
            );
            const allowed = results.filter((r) => r.status === 200);
            const refused = results.filter((r) => r.status === 403);
            expect(allowed).toHaveLength(k);
            expect(refused).toHaveLength(n - k);
            expect(new Set(refused.map((r) => r.body.code))).toEqual(
              n > k ? new Set(['WARRANT_EXHAUSTED']) : new Set(),
            );
            expect(allowed.map((r) => r.body.use).sort()).toEqual(
              Array.from({ length: k }, (_, i) => i + 1),
            );
            const w = await s.http('GET', `/v1/requests/${requestId}/warrant`, { as: 'audra' });
            expect(w.body).toMatchObject({ uses: k, maxUses: k });
          },
        ),
        { numRuns: 8 },
      );
    });
  });
});
