/**
 * The action's post step: report the fulfilment of the main step's redemption, with the
 * job's status as its outcome (`success` only when the job succeeded, with the
 * fingerprint of its result). Without a receipt (the redemption was refused, or never
 * made) there is nothing to report.
 */
import * as core from '@actions/core';
import { connect, failureMessage } from './connect.js';
import { fulfilmentReport, readPostInputs, RECEIPT_STATE } from './inputs.js';
import { escapeHtml } from './summary.js';

async function post(): Promise<void> {
  const receipt = core.getState(RECEIPT_STATE);
  if (receipt === '') {
    core.info('countersign: no receipt from the main step, so no fulfilment to report');
    return;
  }
  const inputs = readPostInputs(core.getInput, process.env);
  const f = await connect(inputs).fulfil(fulfilmentReport(receipt, inputs));
  const line = `countersign: fulfilment ${f.id} recorded: ${f.outcome} at ${f.target}`;
  core.info(line);
  await core.summary.addRaw(escapeHtml(line), true).write();
}

post().catch((e: unknown) => core.setFailed(failureMessage(e)));
