import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { requestIdOf } from '../../src/request/build.js';
import type { RequestCursor } from '../../src/service/ports/requests.js';
import { ALL_SUBJECTS } from '../../src/service/ports/subjects.js';
import { buildBody, context, prodInput, T0 } from '../helpers/request-fixtures.js';
import { legacyDialects, withLegacy } from './legacy.js';

const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

/** A request row as 010 stored it, made `minute` minutes after T0. */
function requestRow(minute: number, state: 'pending' | 'approved') {
  const body = buildBody(
    prodInput({ reason: `change ${minute}` }),
    context(new ManualClock(at(minute)), { nonce: `n-${minute}` }),
  );
  return {
    id: requestIdOf(body),
    body: JSON.stringify(body),
    state,
    requester: body.requester,
    subject: body.subject,
    environment: body.environment,
    created_at: body.createdAt,
    pending_expires_at: body.pendingExpiresAt,
    warrant_id: null,
    updated_at: body.createdAt,
  };
}

/** A secret_version observation of svc:payments-api at `target`, as 010 stored it. */
const observation = (n: number, target: string, version: string, minute: number) => ({
  id: `obs_${n}`,
  key: `k-${n}`,
  observer: 'collector',
  subject: 'svc:payments-api',
  target,
  fact_key: 'secret_version',
  fact: JSON.stringify({ kind: 'secret_version', fingerprint: version }),
  observed_at: at(minute),
  received_at: at(minute),
  event_id: n,
});

for (const { dialect, unavailable } of legacyDialects()) {
  describe.skipIf(unavailable !== null)(`migrations 011 and 012 on ${dialect}`, () => {
    describe('when a database from before the console and streaming reconciliation is opened', () => {
      it('pages its old requests by keyset and reads its old observations newest per fact', async () => {
        await withLegacy(dialect, '010_grants', async (l) => {
          const rows = Array.from({ length: 30 }, (_, i) =>
            requestRow(i, i % 3 === 2 ? 'approved' : 'pending'),
          );
          // Inserted newest first: the pages must come from the index order, not the heap's.
          await l.db
            .insertInto('requests')
            .values([...rows].reverse())
            .execute();
          await l.db
            .insertInto('observations')
            .values([
              observation(1, 'eu-1', 'v1', 1),
              observation(2, 'eu-1', 'v1', 2),
              observation(3, 'eu-1', 'v2', 3),
              observation(6, 'eu-1', 'v2', 3.5),
              observation(4, 'eu-1', 'v2', 4),
              observation(5, 'us-1', 'v1', 1),
            ])
            .execute();

          const store = await l.openStore();
          try {
            const applied = await l.db
              .selectFrom('kysely_migration' as never)
              .select('name' as never)
              .execute();
            expect(applied.map((r) => (r as { name: string }).name)).toEqual(
              expect.arrayContaining([
                '010_grants',
                '011_request_pages',
                '012_reconcile_streaming',
              ]),
            );

            const seen: string[] = [];
            let after: RequestCursor | undefined;
            for (;;) {
              const page = await store.read.requests.list({
                states: ['pending'],
                order: 'oldest',
                limit: 7,
                ...(after ? { after } : {}),
              });
              seen.push(...page.map((r) => r.id));
              const last = page.at(-1);
              if (page.length < 7 || !last) break;
              after = { createdAt: last.body.createdAt, id: last.id };
            }
            expect(seen).toEqual(rows.filter((r) => r.state === 'pending').map((r) => r.id));

            const latest = await store.read.observations.latest(ALL_SUBJECTS, null, 100);
            expect(latest.next).toBeNull();
            expect(latest.observations.map((o) => [o.target, o.id])).toEqual([
              ['eu-1', 'obs_4'],
              ['us-1', 'obs_5'],
            ]);
            // The middle of a run of one value is left out: only its first and last count.
            const changes = await store.read.observations.forRules(ALL_SUBJECTS, []);
            expect(changes.map((o) => o.id).sort()).toEqual(
              ['obs_1', 'obs_2', 'obs_3', 'obs_4', 'obs_5'].sort(),
            );
          } finally {
            await store.close();
          }
        });
      });
    });
  });
}
