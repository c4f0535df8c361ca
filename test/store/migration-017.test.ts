import { createQueryId, type QueryId, type RootOperationNode } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { WarrantId } from '../../src/core/ids.js';
import type { Dialect } from '../../src/service/ports/store.js';
import { kyselyPorts } from '../../src/store/kysely/ports.js';
import { sqliteSql } from '../../src/store/sqlite/dialect.js';
import { sqlitePlan } from '../helpers/sqlite-plan.js';
import { indexesOn, legacyDialects, withLegacy, type LegacyDatabase } from './legacy.js';

const AT = '2026-03-01T10:00:00.000Z';

const request = (id: string, subject: string) => ({
  id,
  body: '{}',
  state: 'approved',
  requester: 'alice',
  subject,
  environment: 'prod',
  created_at: AT,
  pending_expires_at: AT,
  warrant_id: null,
  updated_at: AT,
});

const warrant = (id: string, requestId: string) => ({
  id,
  request_id: requestId,
  kid: 'k1',
  token: 't',
  claims: '{}',
  uses: 1,
  max_uses: 5,
  state: 'active',
  issued_at: AT,
  not_before: AT,
  not_after: '2026-03-01T12:00:00.000Z',
  revoked_at: null,
  revoked_by: null,
  revoke_reason: null,
});

const redemption = (
  id: string,
  warrantId: string | null,
  outcome: 'allow' | 'deny',
  n: number,
) => ({
  id,
  warrant_id: warrantId,
  outcome,
  code: outcome === 'deny' ? 'SCOPE_EXCEEDED' : null,
  use_number: outcome === 'allow' ? 1 : null,
  executor: 'deploy-eu',
  action: JSON.stringify({ resource: `db/t${n}`, permission: 'read', environment: 'prod' }),
  at: AT,
  event_id: n,
  idempotency_key: null,
});

/**
 * The log entries of redemption events `1..count`, integrated: reconciliation judges a
 * denial only once its event is in the log.
 */
async function logged(l: LegacyDatabase, count: number): Promise<void> {
  const rows = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    type: 'redemption.denied',
    at: AT,
    actor: 'deploy-eu',
    leaf: `{"n":${i + 1}}`,
    leaf_hash: String(i + 1).padStart(64, '0'),
    leaf_index: i,
  }));
  for (let i = 0; i < rows.length; i += 500)
    await l.db
      .insertInto('events')
      .values(rows.slice(i, i + 500))
      .execute();
}

/** A warrant of svc:a and one of svc:b, each allowed once and denied once, and a malformed denial. */
async function seed(l: LegacyDatabase): Promise<void> {
  await l.db
    .insertInto('requests')
    .values([request('sha256:a', 'svc:a'), request('sha256:b', 'svc:b')])
    .execute();
  await l.db
    .insertInto('warrants')
    .values([warrant('wrt_a', 'sha256:a'), warrant('wrt_b', 'sha256:b')])
    .execute();
  // Random receipt ids, as redemptions were keyed before ids were ordered by time.
  await l.db
    .insertInto('redemptions')
    .values([
      redemption('rcp_Zq1', 'wrt_a', 'allow', 1),
      redemption('rcp_0x9', 'wrt_b', 'deny', 2),
      redemption('rcp_Mm3', 'wrt_a', 'deny', 3),
      redemption('rcp_aa7', null, 'deny', 4),
      redemption('rcp_B42', 'wrt_b', 'allow', 5),
    ])
    .execute();
  await logged(l, 5);
}

const redemptionIndexes = async (l: LegacyDatabase, dialect: Dialect): Promise<string[]> =>
  [...(await indexesOn(l, dialect, 'redemptions')).keys()].sort();

for (const { dialect, unavailable } of legacyDialects()) {
  describe.skipIf(unavailable !== null)(`migration 017 on ${dialect}`, () => {
    it('keeps one index of redemptions by warrant, and every redemption reads as before', async () => {
      await withLegacy(dialect, '016_reconcile_watermark', async (l) => {
        await seed(l);
        expect(await redemptionIndexes(l, dialect)).toEqual(
          expect.arrayContaining(['redemptions_outcome', 'redemptions_warrant']),
        );
        const store = await l.openStore();
        try {
          const after = await redemptionIndexes(l, dialect);
          expect(after).toContain('redemptions_warrant_outcome');
          expect(after).not.toContain('redemptions_outcome');
          expect(after).not.toContain('redemptions_warrant');

          const ofA = await store.read.warrants.redemptions('wrt_a' as WarrantId);
          expect(ofA.map((r) => r.id)).toEqual(['rcp_Zq1', 'rcp_Mm3']);
          const denied = await store.read.reconciliation.denials(['wrt_a']);
          expect(denied.map((d) => [d.warrantId, d.code])).toEqual([['wrt_a', 'SCOPE_EXCEEDED']]);
          const allowed = await store.read.reconciliation.allowedRedemptions(['wrt_a']);
          expect(allowed.map((r) => r.receiptId)).toEqual(['rcp_Zq1']);
          const every = await store.read.reconciliation.denials();
          expect(every.map((d) => d.warrantId)).toEqual(['wrt_b', 'wrt_a']);
        } finally {
          await store.close();
        }
      });
    });

    it("reads a slice's redemptions by its warrants' ids, more than one query takes, in the order recorded", async () => {
      await withLegacy(dialect, '017_redemption_index', async (l) => {
        // 1,201 warrants take three queries of ids; each warrant's redemptions are recorded
        // far apart, so the chunks' rows interleave and must be merged back in order.
        const n = 1201;
        const ids = Array.from({ length: n }, (_, i) => `wrt_${String(i).padStart(4, '0')}`);
        await l.db
          .insertInto('requests')
          .values(ids.map((id) => request(`sha256:${id}`, `svc:${id}`)))
          .execute();
        await l.db
          .insertInto('warrants')
          .values(ids.map((id) => warrant(id, `sha256:${id}`)))
          .execute();
        const rows = Array.from({ length: 2 * n }, (_, i) => {
          const w = ids[(i * 7) % n] as string;
          return redemption(`rcp_${i}`, w, i % 3 === 0 ? 'deny' : 'allow', i + 1);
        });
        for (let i = 0; i < rows.length; i += 500)
          await l.db
            .insertInto('redemptions')
            .values(rows.slice(i, i + 500))
            .execute();
        await logged(l, rows.length);
        const store = await l.openStore();
        try {
          const r = store.read.reconciliation;
          expect(await r.denials(ids)).toEqual(await r.denials());
          expect(await r.allowedRedemptions(ids)).toEqual(await r.allowedRedemptions());
          const some = ids.filter((_, i) => i % 3 === 1);
          const denied = await r.denials(some);
          expect(denied.map((d) => d.id)).toEqual(
            rows
              .filter((x) => x.outcome === 'deny' && some.includes(x.warrant_id as string))
              .map((x) => String(x.event_id)),
          );
          expect((await r.allowedRedemptions(some)).map((a) => a.receiptId)).toEqual(
            rows
              .filter((x) => x.outcome === 'allow' && some.includes(x.warrant_id as string))
              .map((x) => x.id),
          );
          expect(await r.denials([])).toEqual([]);
        } finally {
          await store.close();
        }
      });
    });

    describe.skipIf(dialect !== 'sqlite')('when a warrant or a pass reads redemptions', () => {
      it('seeks the one index and never scans the table', async () => {
        await withLegacy(dialect, '016_reconcile_watermark', async (l) => {
          await (await l.openStore()).close();
          // A subquery is transformed too; only the query each result came back for was run.
          const byQuery = new Map<QueryId, RootOperationNode>();
          const nodes: RootOperationNode[] = [];
          const db = l.db.withPlugin({
            transformQuery: ({ node, queryId }) => (byQuery.set(queryId, node), node),
            transformResult: ({ result, queryId }) => {
              nodes.push(byQuery.get(queryId) as RootOperationNode);
              return Promise.resolve(result);
            },
          });
          const ports = kyselyPorts(db, sqliteSql);
          await ports.warrants.redemptions('wrt_a' as WarrantId);
          await ports.reconciliation.denials(['wrt_a']);
          await ports.reconciliation.allowedRedemptions(['wrt_a']);
          expect(nodes).toHaveLength(3);
          for (const node of nodes) {
            const q = l.db.getExecutor().compileQuery(node, createQueryId());
            const plan = await sqlitePlan(q.sql, q.parameters);
            expect(plan).toMatch(/SEARCH redemptions USING INDEX redemptions_warrant_outcome/);
            expect(plan).not.toMatch(/SCAN redemptions/);
          }
        });
      });
    });
  });
}
