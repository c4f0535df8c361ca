import { CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ALL_SUBJECTS } from '../../src/service/ports/subjects.js';
import { runsOf } from '../../src/store/kysely/observations.js';
import { historyScan } from '../../src/store/sqlite/history.js';
import { indexesOn, legacyDialects, withLegacy, type LegacyDatabase } from './legacy.js';

const T0 = Date.parse('2026-02-01T00:00:00.000Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

/** A secret_version observation of svc:payments-api, as 013 stored it. */
const observation = (n: number, target: string, version: string, minute: number, late = 0) => ({
  id: `obs_${n}`,
  key: `k-${n}`,
  observer: `collector-${n % 2}`,
  subject: 'svc:payments-api',
  target,
  fact_key: 'secret_version',
  fact: JSON.stringify({ kind: 'secret_version', fingerprint: version }),
  observed_at: at(minute),
  received_at: at(minute + late),
  event_id: n,
});

/** A successful apply report at `target`, `minute` minutes after T0. */
const claim = (minute: number, target: string) => ({
  id: `ful_${minute}`,
  request_id: 'req_1',
  warrant_id: 'wrt_1',
  receipt_id: 'rcp_1',
  executor: 'deployer',
  subject: 'svc:payments-api',
  target,
  phase: 'apply',
  outcome: 'success',
  fingerprint: 'v2',
  detail: null,
  at: at(minute),
  event_id: 100 + minute,
});

const indexesOf = async (l: LegacyDatabase): Promise<string[]> =>
  [...(await indexesOn(l, 'sqlite', 'observations')).keys()].sort();

for (const { dialect, unavailable } of legacyDialects()) {
  describe.skipIf(unavailable !== null)(`migration 014 on ${dialect}`, () => {
    describe('when a database holding observations from 013 is opened', () => {
      it('reads every history exactly as before: runs, the newest, the limits of a claim', async () => {
        await withLegacy(dialect, '013_warrant_issued_events', async (l) => {
          // Inserted out of order, with a tie of time broken by the receiving time.
          await l.db
            .insertInto('observations')
            .values([
              observation(4, 'eu-1', 'v2', 4),
              observation(1, 'eu-1', 'v1', 1),
              observation(3, 'eu-1', 'v2', 3, 1),
              observation(7, 'eu-1', 'v2', 3, 0),
              observation(2, 'eu-1', 'v1', 2),
              observation(6, 'eu-1', 'v2', 3.5),
              observation(5, 'us-1', 'v1', 1),
            ])
            .execute();
          await l.db.insertInto('fulfilments').values(claim(3, 'eu-1')).execute();

          const store = await l.openStore();
          try {
            const changes = await store.read.observations.forRules(ALL_SUBJECTS, []);
            // eu-1: v1 (1, 2), then v2 from 7 (its tie with 3 is broken by receiving time) to 4.
            expect(changes.map((o) => o.id).sort()).toEqual(
              ['obs_1', 'obs_2', 'obs_7', 'obs_4', 'obs_5'].sort(),
            );
            const seven = changes.find((o) => o.id === 'obs_7');
            expect(seven).toEqual({
              id: 'obs_7',
              observer: 'collector-1',
              subject: 'svc:payments-api',
              target: 'eu-1',
              observedAt: at(3),
              receivedAt: at(3),
              fact: { kind: 'secret_version', fingerprint: 'v2' },
            });
            const latest = await store.read.observations.latest(ALL_SUBJECTS, null, 10);
            expect(latest.observations.map((o) => o.id)).toEqual(['obs_4', 'obs_5']);
            // The claim at minute 3 is bounded by obs_2 and obs_7, both ends of runs already.
            const claimed = await store.read.observations.forRules(ALL_SUBJECTS, [
              { subject: 'svc:payments-api', target: 'eu-1', at: at(3) },
            ]);
            expect(claimed.map((o) => o.id).sort()).toEqual(changes.map((o) => o.id).sort());
            expect(
              await store.read.observations.latestObservedAt(
                'svc:payments-api',
                'eu-1',
                'secret_version',
              ),
            ).toBe(at(4));
          } finally {
            await store.close();
          }
        });
      });
    });

    describe.skipIf(dialect !== 'sqlite')('when the history of every fact is walked', () => {
      it('reads one covering index and never the table, and keeps one index fewer', async () => {
        await withLegacy(dialect, '013_warrant_issued_events', async (l) => {
          expect(await indexesOf(l)).toEqual(
            expect.arrayContaining(['observations_history', 'observations_latest']),
          );
          await (await l.openStore()).close();
          const after = await indexesOf(l);
          expect(after).toContain('observations_facts');
          expect(after).not.toContain('observations_history');
          expect(after).not.toContain('observations_latest');

          // PostgreSQL's window, and the ordered scan SQLite reads instead (sqlite/history.ts).
          const walk = runsOf(ALL_SUBJECTS, 'sqlite').compile(l.db);
          const scans = [
            { text: walk.sql, params: [...walk.parameters] },
            historyScan({ after: 'a', through: 'z' }),
            historyScan({ after: null, through: null, only: ['svc:a', 'svc:b'] }),
          ];
          for (const { text, params } of scans) {
            const { rows } = await l.db.executeQuery<{ detail: string }>(
              CompiledQuery.raw(`explain query plan ${text}`, params),
            );
            const plan = rows.map((r) => r.detail);
            // Every step that touches observations reads the index alone.
            const steps = plan.filter((d) => /\bobservations\b/.test(d));
            expect(steps.length).toBeGreaterThan(0);
            for (const d of steps) expect(d).toContain('COVERING INDEX observations_facts');
            if (text !== walk.sql) expect(plan.join('\n')).not.toContain('TEMP B-TREE');
          }
        });
      });
    });
  });
}
