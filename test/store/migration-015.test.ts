import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { ExpiryCursor } from '../../src/service/ports/reconciliation.js';
import type { Dialect, Store } from '../../src/service/ports/store.js';
import { sqlitePlan } from '../helpers/sqlite-plan.js';
import { indexesOn, legacyDialects, withLegacy, type LegacyDatabase } from './legacy.js';

const NOW = '2026-03-01T12:00:00.000Z';
const SUBJECT = 'svc:payments-api';

/**
 * A warrant as 014 stored it, ending at `notAfter`; null is a row from before 006, whose
 * window is only in its request's body (`bodyNotAfter`).
 */
async function seed(
  l: LegacyDatabase,
  id: string,
  notAfter: string | null,
  opts: { bodyNotAfter?: string; recorded?: boolean } = {},
): Promise<void> {
  const requestId = `req_${id}`;
  await l.db
    .insertInto('requests')
    .values({
      id: requestId,
      body: JSON.stringify({ subject: SUBJECT, notAfter: opts.bodyNotAfter ?? notAfter }),
      state: 'approved',
      requester: 'alice',
      subject: SUBJECT,
      environment: 'prod',
      created_at: '2026-02-01T00:00:00.000Z',
      pending_expires_at: '2026-02-02T00:00:00.000Z',
      warrant_id: `wrt_${id}`,
      updated_at: '2026-02-01T00:00:00.000Z',
    })
    .execute();
  await l.db
    .insertInto('warrants')
    .values({
      id: `wrt_${id}`,
      request_id: requestId,
      kid: 'k1',
      token: 'header.payload.sig',
      claims: '{}',
      uses: 0,
      max_uses: 1,
      state: 'active',
      issued_at: '2026-02-01T00:00:00.000Z',
      not_before: notAfter === null ? null : '2026-02-01T00:00:00.000Z',
      not_after: notAfter,
      revoked_at: null,
      revoked_by: null,
      revoke_reason: null,
      expiry_recorded_at: opts.recorded === true ? '2026-02-20T00:00:00.000Z' : null,
    })
    .execute();
}

/** How the database itself defines the index migration 015 made. */
const indexDefinition = async (l: LegacyDatabase, dialect: Dialect): Promise<string> =>
  (await indexesOn(l, dialect, 'warrants')).get('warrants_expiry_due') ?? '';

/** Every page of due expiries, `limit` at a time: the warrant ids of each page. */
async function pages(store: Store, limit: number): Promise<string[][]> {
  const all: string[][] = [];
  let after: ExpiryCursor | null = null;
  do {
    const page = await store.read.reconciliation.warrantsToExpire(NOW, after, limit);
    all.push(page.due.map((w) => w.warrantId));
    after = page.next;
  } while (after !== null);
  return all;
}

for (const { dialect, unavailable } of legacyDialects()) {
  describe.skipIf(unavailable !== null)(`migration 015 on ${dialect}`, () => {
    describe('when a database holding unrecorded expiries from 014 is opened', () => {
      it('pages every due warrant once, by window end then id, the oldest rows first', async () => {
        await withLegacy(dialect, '014_observation_facts', async (l) => {
          await sql`insert into nhis (id, key, kind, owner, description, created_at, created_by)
            values (${SUBJECT}, ${SUBJECT}, 'service_account', 'team', null,
            '2026-01-01T00:00:00.000Z', 'admin')`.execute(l.db);
          await seed(l, 'c', '2026-02-10T00:00:00.000Z');
          await seed(l, 'a', '2026-02-10T00:00:00.000Z'); // a tie, broken by id
          await seed(l, 'e', '2026-02-28T00:00:00.000Z');
          await seed(l, 'b', '2026-02-05T00:00:00.000Z');
          await seed(l, 'd', NOW); // ends at this very instant: due
          await seed(l, 'later', '2026-03-01T12:00:00.001Z');
          await seed(l, 'done', '2026-02-01T00:00:00.000Z', { recorded: true });
          await seed(l, 'old', null, { bodyNotAfter: '2026-02-15T00:00:00.000Z' });
          await seed(l, 'old-later', null, { bodyNotAfter: '2026-04-01T00:00:00.000Z' });

          const store = await l.openStore();
          try {
            expect(await indexDefinition(l, dialect)).toMatch(/expiry_recorded_at"? is null/i);
            expect(await pages(store, 2)).toEqual([
              ['wrt_old', 'wrt_b', 'wrt_a'],
              ['wrt_c', 'wrt_e'],
              ['wrt_d'],
            ]);
            // A page that ends on the last due warrant is followed by an empty one.
            expect(await pages(store, 5)).toEqual([
              ['wrt_old', 'wrt_b', 'wrt_a', 'wrt_c', 'wrt_e', 'wrt_d'],
              [],
            ]);
            const first = await store.read.reconciliation.warrantsToExpire(NOW, null, 10);
            expect(first.next).toBeNull();
            expect(first.due.find((w) => w.warrantId === 'wrt_old')).toEqual({
              warrantId: 'wrt_old',
              requestId: 'req_old',
              subject: SUBJECT,
              notAfter: '2026-02-15T00:00:00.000Z',
            });
            // Recorded between two pages, a warrant is not read again, and none is skipped.
            const one = await store.read.reconciliation.warrantsToExpire(NOW, null, 2);
            expect(one.due.map((w) => w.warrantId)).toEqual(['wrt_old', 'wrt_b', 'wrt_a']);
            await store.transaction((tx) =>
              tx.reconciliation.markExpiriesRecorded(['wrt_c', 'wrt_e'], NOW),
            );
            const two = await store.read.reconciliation.warrantsToExpire(NOW, one.next, 2);
            expect(two).toEqual({
              due: [expect.objectContaining({ warrantId: 'wrt_d', notAfter: NOW })],
              next: null,
            });
          } finally {
            await store.close();
          }
        });
      });
    });
  });
}

describe('the query of a page of expiries on SQLite', () => {
  it('walks the partial index of unrecorded warrants, never the whole table', async () => {
    // The statement warrantsToExpire builds after the first page, as Kysely compiles it.
    const plan = await sqlitePlan(
      `select "warrants"."id", "warrants"."request_id", "requests"."subject",
         "warrants"."not_after"
       from "warrants" inner join "requests" on "requests"."id" = "warrants"."request_id"
       where "warrants"."expiry_recorded_at" is null and "warrants"."not_after" <= ?
         and ("warrants"."not_after", "warrants"."id") > (?, ?)
       order by "warrants"."not_after", "warrants"."id" limit ?`,
      [NOW, NOW, 'wrt_a', 2],
    );
    expect(plan).toContain('SEARCH warrants USING INDEX warrants_expiry_due');
    expect(plan).not.toContain('SCAN');
    expect(plan).not.toContain('TEMP B-TREE');
  });
});
