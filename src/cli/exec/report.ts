import {
  CountersignApiError,
  CountersignClientError,
  type CountersignClient,
} from '../../client/index.js';
import type { ExecReport } from './outcome.js';
import type { Grant } from './redeem.js';

/** Where exec's own lines go: stderr, since stdout belongs to the command. */
export type Say = (line: string) => void;

/**
 * Reports one fulfilment per redeemed target. A report that is not recorded is a warning
 * naming its code, never a change to exec's exit status: the command has run, and its
 * result is what the caller's script acts on. A success may be sent twice safely (the
 * server keeps one and answers the second `FULFILMENT_DUPLICATE`), so it is retried like
 * an idempotent call; a failure is sent once, as a retry would record it twice.
 */
export async function reportAll(
  client: CountersignClient,
  reports: ReadonlyArray<{ readonly grant: Grant; readonly report: ExecReport }>,
  signal: AbortSignal,
  say: Say,
): Promise<void> {
  for (const { grant: g, report } of reports) {
    if (signal.aborted) {
      say(`warning: fulfilment at ${g.fulfilTarget} not reported: INTERRUPTED`);
      continue;
    }
    try {
      await client.fulfil(
        {
          receipt: g.receipt,
          target: g.fulfilTarget,
          outcome: report.outcome,
          phase: 'apply',
          detail: report.detail,
          ...(report.fingerprint === undefined ? {} : { fingerprint: report.fingerprint }),
        },
        { signal, idempotent: report.outcome === 'success' },
      );
      say(`fulfilment at ${g.fulfilTarget}: ${report.outcome} (${report.detail})`);
    } catch (e) {
      if (e instanceof CountersignApiError && e.code === 'FULFILMENT_DUPLICATE') {
        // For a success, our own earlier attempt; for a failure, someone else's success
        // (a broker reports its grant applied): then this report is not on record.
        say(
          report.outcome === 'success'
            ? `fulfilment at ${g.fulfilTarget}: ${report.outcome} (${report.detail})`
            : `warning: fulfilment at ${g.fulfilTarget} not recorded: a success is already on record (FULFILMENT_DUPLICATE); the command's ${report.outcome} (${report.detail})`,
        );
        continue;
      }
      say(`warning: fulfilment at ${g.fulfilTarget} not recorded: ${codeOf(e, signal)}`);
    }
  }
}

/** The stable code of a failed call; messages stay out, as they may quote what was sent. */
function codeOf(e: unknown, signal: AbortSignal): string {
  if (e instanceof CountersignApiError || e instanceof CountersignClientError) return e.code;
  return signal.aborted ? 'INTERRUPTED' : 'UNKNOWN';
}
