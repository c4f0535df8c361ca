import { CountersignClientError } from './errors.js';
import { sleep } from './retry.js';
import type { RequestView, WaitOptions } from './types.js';

export const DEFAULT_WAIT_INTERVAL_MS = 2000;
export const DEFAULT_WAIT_TIMEOUT_MS = 15 * 60_000;

/**
 * Polls a request until it leaves `pending`: approved, denied, expired, withdrawn, or
 * anything after. The server answers a pending request past its deadline as
 * `expired`, so a wait ends by then even with a long `timeoutMs`.
 */
export async function waitForDecision(
  get: (id: string, o: { signal: AbortSignal }) => Promise<RequestView>,
  id: string,
  o: WaitOptions = {},
): Promise<RequestView> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, deadline]) : deadline;
  try {
    for (;;) {
      const view = await get(id, { signal });
      if (view.state !== 'pending') return view;
      await sleep(o.intervalMs ?? DEFAULT_WAIT_INTERVAL_MS, signal);
    }
  } catch (e) {
    if (deadline.aborted && e === deadline.reason && !o.signal?.aborted) {
      throw new CountersignClientError(
        'WAIT_TIMEOUT',
        `request ${id} was still pending after ${timeoutMs} ms`,
        { cause: e },
      );
    }
    throw e;
  }
}
