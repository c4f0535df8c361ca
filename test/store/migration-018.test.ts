import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import { sqlitePlan } from '../helpers/sqlite-plan.js';
import { indexesOn, legacyDialects, withLegacy, type LegacyDatabase } from './legacy.js';

const AT = '2026-03-01T10:00:00.000Z';

/** A logged event of `type` about finding `id`, at leaf `index` (null: still queued). */
const event = (n: number, type: string, id: string, index: number | null) => ({
  id: n,
  type,
  at: AT,
  actor: 'countersign',
  leaf: canonicalJson({
    v: 1,
    type,
    at: AT,
    actor: 'countersign',
    links: { nhi: 'svc:a' },
    data: { id, kind: 'SCOPE_EXCEEDED_OBSERVED' },
  }),
  leaf_hash: String(n).padStart(64, '0'),
  leaf_index: index,
});

/** fnd_a raised and acknowledged, fnd_b raised, fnd_c queued, and an observation naming fnd_a. */
async function seed(l: LegacyDatabase): Promise<void> {
  await l.db
    .insertInto('events')
    .values([
      event(1, 'finding.raised', 'fnd_a', 0),
      event(2, 'finding.raised', 'fnd_b', 1),
      event(3, 'observation.recorded', 'fnd_a', 2),
      event(4, 'finding.acknowledged', 'fnd_a', 3),
      event(5, 'finding.raised', 'fnd_c', null),
    ])
    .execute();
}

/** The statement `entriesForFindings` sends for two ids, as Kysely compiles it per dialect. */
const FINDING_TYPES = `('finding.raised', 'finding.acknowledged', 'finding.resolved', 'finding.reopened')`;

for (const { dialect, unavailable } of legacyDialects()) {
  describe.skipIf(unavailable !== null)(`migration 018 on ${dialect}`, () => {
    it("indexes finding events by the finding id in their leaf, and finds a finding's events", async () => {
      await withLegacy(dialect, '017_redemption_index', async (l) => {
        await seed(l);
        expect([...(await indexesOn(l, dialect, 'events')).keys()]).not.toContain('events_finding');
        const store = await l.openStore();
        try {
          expect([...(await indexesOn(l, dialect, 'events')).keys()]).toContain('events_finding');
          const types = (await store.read.log.entriesForFindings(['fnd_a', 'fnd_c'])).map((e) => [
            e.index,
            (JSON.parse(e.leaf) as { type: string }).type,
          ]);
          // In log order; the observation is no finding event, and fnd_c is not yet in the log.
          expect(types).toEqual([
            [0, 'finding.raised'],
            [3, 'finding.acknowledged'],
          ]);
          expect(await store.read.log.entriesForFindings([])).toEqual([]);
        } finally {
          await store.close();
        }
      });
    });

    it('walks the partial index rather than the log', async () => {
      if (dialect === 'sqlite') {
        const plan = await sqlitePlan(
          `select "leaf_index" as "index", "leaf", "leaf_hash" as "leafHash" from "events"
           where "type" in ${FINDING_TYPES} and json_extract(leaf, '$.data.id') in (?, ?)
           and "leaf_index" is not null`,
          ['fnd_a', 'fnd_b'],
        );
        expect(plan).toContain('events_finding');
        return;
      }
      await withLegacy(dialect, '017_redemption_index', async (l) => {
        await (await l.openStore()).close();
        await sql`set enable_seqscan = off`.execute(l.db);
        const { rows } = await sql<{ 'QUERY PLAN': string }>`explain select leaf_index from events
          where type in ${sql.raw(FINDING_TYPES)}
          and ((leaf::jsonb -> 'data') ->> 'id') in ('fnd_a', 'fnd_b')
          and leaf_index is not null`.execute(l.db);
        expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('events_finding');
      });
    });
  });
}
