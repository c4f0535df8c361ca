import type { RedeemAllowed } from '../../../src/client/index.js';
import type { ReceiptClaims } from '../../../src/redemption/receipt.js';

/** A summary cell: the runner renders the job summary as HTML, so text is escaped. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** How the receipt's action reads in one line: `read on db/orders in prod at eu`. */
export function actionText(action: ReceiptClaims['action']): string {
  const at = action.target === undefined ? '' : ` at ${action.target}`;
  return `${action.permission} on ${action.resource} in ${action.environment}${at}`;
}

/** The job summary's rows for a redemption: ids and counts (the receipt follows them). */
export function summaryRows(
  r: RedeemAllowed,
  claims: ReceiptClaims,
): (readonly [string, string])[] {
  const rows: (readonly [string, string])[] = [
    ['receipt', r.receiptId],
    ['warrant', r.warrantId],
    ['request', r.requestId],
    ['use', `${r.use} of ${r.maxUses} (${r.remaining} remaining)`],
    ['action', actionText(claims.action)],
    ['executor', claims.executor],
  ];
  return rows.map(([name, value]) => [escapeHtml(name), escapeHtml(value)] as const);
}
