/**
 * The action's post step: report the fulfilment of the main step's redemption, with the
 * job's status as its outcome (`success` only when the job succeeded). Without a receipt
 * (the redemption was refused, or never made) there is nothing to report.
 */
import * as core from '@actions/core';
import { connect, failureMessage } from './connect.js';
import { readPostInputs, RECEIPT_STATE } from './inputs.js';
import { escapeHtml } from './summary.js';

async function post(): Promise<void> {
  const receipt = core.getState(RECEIPT_STATE);
  if (receipt === '') {
    core.info('countersign: no receipt from the main step, so no fulfilment to report');
    return;
  }
  const inputs = readPostInputs(core.getInput);
  const outcome = inputs.jobStatus === 'success' ? 'success' : 'failure';
  const f = await connect(inputs).fulfil({
    receipt,
    target: inputs.target,
    outcome,
    detail: `job status ${inputs.jobStatus}`,
    ...(inputs.fingerprint === undefined ? {} : { fingerprint: inputs.fingerprint }),
  });
  const line = `countersign: fulfilment ${f.id} recorded: ${outcome} at ${f.target}`;
  core.info(line);
  await core.summary.addRaw(escapeHtml(line), true).write();
}

post().catch((e: unknown) => core.setFailed(failureMessage(e)));
