import type { RequestId, WarrantId } from '../../src/core/ids.js';
import { encodeEvent, openEvent, type LogEvent } from '../../src/log/event.js';
import type { UseSpend } from '../../src/service/ports/spend.js';
import type { Store } from '../../src/service/ports/store.js';
import { nhi, request } from './store-rows.js';

/** Spends for tests of `Store.spendUse`, over the rows of `store-rows.ts`. */
export const RID = ('sha256:' + 'c'.repeat(64)) as RequestId;
export const AT = '2026-01-01T01:00:00.000Z';
// Characters whose UTF-8 and JSON forms differ: the SQL hash must see the bytes JS does.
export const ACTION = {
  resource: 'db/ünïcödé "q" \u2028 😀',
  permission: 'read',
  environment: 'prod',
};

export const allowedEvent =
  (wid: string, rid: string) =>
  (use: number | string): LogEvent => ({
    v: 1,
    type: 'redemption.allowed',
    at: AT,
    actor: 'deploy-eu',
    links: { request: rid, warrant: wid, nhi: nhi.id },
    data: { receipt: { jti: `rct_${wid}`, use, action: ACTION }, kid: 'k1' },
  });

/** A spend of `wid`, a warrant of request `rid`, as the service would build it. */
export function spendOf(
  wid: string,
  signedMaxUses: number,
  over: Partial<UseSpend> = {},
  rid: string = RID,
): UseSpend {
  const allowed = openEvent(allowedEvent(wid, rid), `use-of-rct_${wid}`);
  if (allowed === null) throw new Error('marker not found once');
  return {
    warrantId: wid as WarrantId,
    requestId: rid as RequestId,
    signedMaxUses,
    at: AT,
    redemption: { id: `rct_${wid}_${Math.random()}`, executor: 'deploy-eu', action: ACTION },
    allowed,
    exhausted: () =>
      encodeEvent({
        v: 1,
        type: 'warrant.exhausted',
        at: AT,
        actor: 'countersign',
        links: { request: rid, warrant: wid, nhi: nhi.id },
        data: { uses: signedMaxUses },
      }),
    ...over,
  };
}

/** The NHI and the approved request `RID` that the spends above name. */
export const seedSpends = (s: Store): Promise<void> =>
  s.transaction(async (tx) => {
    await tx.nhis.insert(nhi);
    await tx.requests.insert({ ...request(RID), state: 'approved' });
  });
