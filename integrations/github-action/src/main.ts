/**
 * The action's main step: redeem the warrant as this job's OIDC workload identity.
 *
 * The warrant is masked before anything else runs. On an allowed redemption the receipt
 * becomes the step's `receipt` output and the post step's state (so the fulfilment is
 * reported even if a later step of the job fails); the job summary shows ids only. A
 * refusal fails the step with `countersign: <CODE>: <why>`, the server's stable code.
 */
import * as core from '@actions/core';
import { connect, failureMessage } from './connect.js';
import { readMainInputs, RECEIPT_STATE } from './inputs.js';
import { actionText, escapeHtml, summaryRows } from './summary.js';

async function main(): Promise<void> {
  const warrant = core.getInput('warrant');
  if (warrant !== '') core.setSecret(warrant);
  const inputs = readMainInputs(core.getInput, process.env);
  const client = connect(inputs);
  const r = await client.redeem({
    warrant: inputs.warrant,
    action: inputs.action,
    ...(inputs.idempotencyKey === undefined ? {} : { idempotencyKey: inputs.idempotencyKey }),
  });
  core.saveState(RECEIPT_STATE, r.receipt);
  core.setOutput('receipt', r.receipt);
  core.setOutput('receipt-id', r.receiptId);
  core.setOutput('warrant-id', r.warrantId);
  core.setOutput('request-id', r.requestId);
  core.setOutput('use', String(r.use));
  core.setOutput('remaining', String(r.remaining));
  // Checked against the server's published keys before the job relies on it.
  const claims = await client.verifyReceipt(r.receipt);
  core.info(
    `countersign: redeemed use ${r.use} of ${r.maxUses} of warrant ${r.warrantId} ` +
      `(${actionText(claims.action)}) as ${claims.executor}; receipt ${r.receiptId}`,
  );
  await core.summary
    .addHeading(`countersign: use ${r.use} of ${r.maxUses} redeemed`, 3)
    .addTable(summaryRows(r, claims).map(([name, value]) => [{ data: name, header: true }, value]))
    // The receipt is a signed proof, not a credential: only the executor it names may
    // report against it. Folded, so the summary reads by its ids.
    .addDetails('signed receipt (JWS)', `<code>${escapeHtml(r.receipt)}</code>`)
    .write();
}

main().catch((e: unknown) => core.setFailed(failureMessage(e)));
