import { CountersignError } from '../core/errors.js';
import {
  assertNotDuplicate,
  newFulfilmentId,
  validateFulfilmentInput,
  type Fulfilment,
  type FulfilmentErrorCode,
  type FulfilmentInput,
} from '../fulfilment/fulfilment.js';
import type { Principal } from '../identity/principal.js';
import { executorMismatch } from '../redemption/check.js';
import { RECEIPT_TYP, ReceiptSchema, type ReceiptClaims } from '../redemption/receipt.js';
import { canonicalJson } from '../core/canonical.js';
import type { RedemptionRow } from './ports/warrants.js';
import { record, type ServiceContext } from './context.js';
import type { TxPorts } from './ports/store.js';

/** Whether a receipt's claims are those of the redemption recorded under its id. */
function sameRedemption(r: RedemptionRow, claims: ReceiptClaims): boolean {
  return (
    r.warrantId === claims.warrant_id &&
    r.executor === claims.executor &&
    r.useNumber === claims.use &&
    canonicalJson(r.action) === canonicalJson(claims.action)
  );
}

const invalidReceipt = (): CountersignError<FulfilmentErrorCode> =>
  new CountersignError('RECEIPT_INVALID', 'the receipt does not verify as a countersign receipt');

/**
 * Records what an executor says it did at one target. The report must carry a
 * receipt the server signed, and only the executor it names may report against it.
 * Fingerprints only: fields that look like secret material are refused unstored.
 */
/** Records a fulfilment and its log event, in the caller's transaction. */
export async function insertFulfilment(
  tx: TxPorts,
  now: Date,
  actor: string,
  f: Fulfilment,
  afterWindow: boolean,
): Promise<void> {
  const eventId = await record(
    tx,
    'fulfilment.recorded',
    now,
    actor,
    { request: f.requestId, warrant: f.warrantId, nhi: f.subject },
    {
      id: f.id,
      receiptId: f.receiptId,
      target: f.target,
      phase: f.phase,
      outcome: f.outcome,
      fingerprint: f.fingerprint,
      detail: f.detail,
      afterWindow,
    },
  );
  await tx.fulfilments.insert(f, eventId);
}

export async function reportFulfilment(
  ctx: ServiceContext,
  caller: Principal,
  receipt: string,
  input: FulfilmentInput,
): Promise<Fulfilment> {
  const claims = (await ctx.keys().verifyClaims(receipt, RECEIPT_TYP, ReceiptSchema))?.claims;
  if (!claims) throw invalidReceipt();
  const now = ctx.clock.now();
  return ctx.store.transaction(async (tx) => {
    const warrant = await tx.warrants.get(claims.warrant_id);
    if (!warrant || warrant.requestId !== claims.request_id) throw invalidReceipt();
    // The receipt must be one this server gave out: an allowed redemption recorded under
    // its id, of this warrant, by this executor, for this action and use. A signature
    // alone is not enough: a key revoked as compromised could sign any receipt.
    const redeemed = await tx.warrants.allowedById(claims.jti);
    if (!redeemed || !sameRedemption(redeemed, claims)) throw invalidReceipt();
    // A claims binding names a workload, not a principal id: two pipelines of one
    // repository share an id, and only the one the binding names may report.
    const mismatch = executorMismatch(warrant.claims.executor, {
      executor: caller.id,
      executorIdentity: caller.via === 'oidc' ? caller.identity : null,
    });
    if (mismatch !== null) {
      throw new CountersignError<FulfilmentErrorCode>('RECEIPT_NOT_YOURS', mismatch);
    }
    const report = validateFulfilmentInput(input, {
      receiptExecutor: claims.executor,
      caller: caller.id,
      warrantTargets: warrant.claims.targets,
      redeemedTarget: claims.action.target,
      now,
      windowEnd: new Date(warrant.claims.exp * 1000),
    });
    // Two nodes on PostgreSQL (READ COMMITTED) can both pass this check. The partial
    // unique index of migration 005 then refuses the later insert; the store reruns the
    // whole transaction after that unique violation (nothing of the first run is kept),
    // and the rerun finds the winner's row here and refuses with FULFILMENT_DUPLICATE.
    if (await tx.fulfilments.hasSuccess(claims.jti, report.target, report.phase)) {
      assertNotDuplicate(
        [
          {
            receiptId: claims.jti,
            target: report.target,
            phase: report.phase,
            outcome: 'success',
          },
        ],
        {
          receiptId: claims.jti,
          target: report.target,
          phase: report.phase,
        },
      );
    }
    const f: Fulfilment = {
      id: newFulfilmentId(),
      requestId: warrant.requestId,
      warrantId: warrant.id,
      receiptId: claims.jti,
      executor: caller.id,
      subject: warrant.claims.sub,
      target: report.target,
      phase: report.phase,
      outcome: report.outcome,
      fingerprint: report.fingerprint,
      detail: report.detail,
      at: report.at,
    };
    await insertFulfilment(tx, now, caller.id, f, report.afterWindow);
    return f;
  });
}
