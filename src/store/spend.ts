/**
 * `Store.spendUse` as a transaction over the ports: SQLite's implementation (in-process,
 * so its statements cost no round trips) and the reference the one-statement PostgreSQL
 * version (`postgres/spend.ts`) must agree with.
 */
import { closeEvent } from '../log/event.js';
import type { SpentUse, UseSpend } from '../service/ports/spend.js';
import type { TxPorts } from '../service/ports/store.js';
import type { WarrantRecord } from '../warrant/warrant.js';

/** The row's own conditions on a use, beside the counters `consumeUse` checks. */
function admits(row: WarrantRecord, spend: UseSpend): boolean {
  const t = Date.parse(spend.at);
  return (
    row.requestId === spend.requestId &&
    row.state === 'active' &&
    t >= Date.parse(row.notBefore) &&
    t < Date.parse(row.notAfter)
  );
}

export async function spendInTransaction(tx: TxPorts, spend: UseSpend): Promise<SpentUse | null> {
  const row = await tx.warrants.get(spend.warrantId);
  if (!row || !admits(row, spend)) return null;
  const use = await tx.warrants.consumeUse(row.id, spend.signedMaxUses);
  if (use === null) return null;
  const eventId = await tx.log.append(closeEvent(spend.allowed, use));
  await tx.warrants.recordRedemption({
    ...spend.redemption,
    warrantId: row.id,
    outcome: 'allow',
    code: null,
    useNumber: use,
    at: spend.at,
    eventId,
    idempotencyKey: null,
  });
  if (use === spend.signedMaxUses) {
    await tx.requests.transition(spend.requestId, 'approved', 'exhausted', spend.at);
    await tx.log.append(spend.exhausted());
  }
  return { use, eventId };
}
