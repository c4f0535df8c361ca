import type { LogReader } from './ports/log.js';

/** What the background integrator last saw: a failing integrator is never silent. */
export interface IntegratorHealth {
  /** The last failure's code and message (never a leaf), or null after a success. */
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly failures: number;
}

/**
 * Why the log is not keeping up, or null when it is: an event that has waited longer
 * than `boundMs` outside any signed checkpoint means integration has stalled or fails,
 * and nothing recorded since can be proven until it recovers.
 */
export async function logStall(
  repo: { readonly log: LogReader },
  now: Date,
  boundMs: number,
  health: IntegratorHealth,
): Promise<string | null> {
  const oldest = await repo.log.oldestQueuedAt();
  if (oldest === null || now.getTime() - Date.parse(oldest) <= boundMs) return null;
  const waiting = await repo.log.queuedCount();
  const cause = health.lastError === null ? '' : ` (last integration failure: ${health.lastError})`;
  return `${waiting} event(s) have waited since ${oldest} outside any signed checkpoint${cause}`;
}
