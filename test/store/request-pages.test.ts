import { beforeEach, describe, expect, it } from 'vitest';
import type { DecisionId, PrincipalId } from '../../src/core/ids.js';
import { requestIdOf } from '../../src/request/build.js';
import type { RequestBody, RequestRecord, RequestState } from '../../src/request/request.js';
import type { RequestListFilter } from '../../src/service/ports/requests.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { prodBody } from '../helpers/request-fixtures.js';

const base = prodBody();
/** The n-th request: created n ms after the first; every third shares its instant with the next. */
const record = (n: number, over: Partial<RequestBody> = {}, state: RequestState = 'pending') => {
  const createdAt = new Date(Date.parse(base.createdAt) + Math.floor(n / 2)).toISOString();
  const body: RequestBody = { ...base, nonce: `n-${n}`, createdAt, ...over };
  return { id: requestIdOf(body), body, state, warrantId: null, updatedAt: createdAt };
};

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `request pages on the ${dialect.name} store`,
    () => {
      let store: Store;
      const storeOf = storePerTest(dialect);
      let all: RequestRecord[];
      beforeEach(async () => {
        store = storeOf();
        all = Array.from({ length: 9 }, (_, n) =>
          record(
            n,
            n % 3 === 0 ? { requester: 'carol' as PrincipalId } : {},
            n === 8 ? 'approved' : 'pending',
          ),
        );
        await store.transaction(async (tx) => {
          for (const r of all) await tx.requests.insert(r);
          await tx.requests.insertDecision({
            id: 'dec_1' as DecisionId,
            requestId: all[1]!.id,
            requestDigest: all[1]!.id,
            approver: 'bob' as PrincipalId,
            decision: 'approve',
            reason: 'ok',
            at: base.createdAt,
          });
        });
      });

      /** Reads every page of `size` after the cursor of the last row, as ids. */
      const pages = async (f: Omit<RequestListFilter, 'limit'>, size: number) => {
        const ids: string[] = [];
        let after: RequestListFilter['after'];
        for (;;) {
          const rows = await store.read.requests.list({
            ...f,
            ...(after ? { after } : {}),
            limit: size,
          });
          ids.push(...rows.map((r) => r.id));
          const last = rows.at(-1);
          if (rows.length < size || !last) return ids;
          after = { createdAt: last.body.createdAt, id: last.id };
        }
      };
      const byKey = (a: RequestRecord, b: RequestRecord) =>
        a.body.createdAt === b.body.createdAt
          ? a.id.localeCompare(b.id)
          : a.body.createdAt.localeCompare(b.body.createdAt);

      describe('when read oldest first through cursors', () => {
        it('returns every row once, ties on the instant broken by id, whatever the page size', async () => {
          const expected = [...all].sort(byKey).map((r) => r.id);
          for (const size of [1, 2, 4, 100]) {
            expect(await pages({ order: 'oldest' }, size)).toEqual(expected);
            expect(await pages({ order: 'newest' }, size)).toEqual([...expected].reverse());
          }
        });
      });

      describe("when filtered for an approver's inbox", () => {
        it('keeps the pending, undecided requests of others that are not past their deadline', async () => {
          const ids = await pages(
            {
              order: 'oldest',
              pendingAt: base.createdAt,
              notRequester: 'carol',
              notDecidedBy: 'bob',
            },
            2,
          );
          const expected = all
            .filter((r, n) => n !== 8 && n !== 1 && r.body.requester !== 'carol')
            .sort(byKey)
            .map((r) => r.id);
          expect(ids).toEqual(expected);
          expect(await pages({ pendingAt: base.pendingExpiresAt }, 10)).toEqual([]);
          expect(await pages({ expiredAt: base.pendingExpiresAt }, 100)).toHaveLength(8);
        });

        it("counts each request's approvals in one query", async () => {
          const counts = await store.read.requests.approvalCounts(all.map((r) => r.id));
          expect([...counts]).toEqual([[all[1]!.id, 1]]);
        });
      });

      describe('when filtered by requester', () => {
        it('returns only theirs', async () => {
          const ids = await pages({ requester: 'carol', order: 'newest' }, 2);
          expect(ids).toHaveLength(3);
        });
      });
    },
  );
}
