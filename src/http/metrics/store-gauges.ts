import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import { FINDING_KINDS, type FindingKind } from '../../reconcile/finding.js';
import type { Clock } from '../../core/clock.js';
import type { Store } from '../../service/ports/store.js';
import { METRIC_PREFIX as PREFIX } from './names.js';

/** Where the gauges read at scrape time come from. */
export interface MetricsSource {
  readonly store: Store;
  readonly clock: Clock;
  /** Longest a scrape waits for the store before answering with the last values read. */
  readonly storeReadTimeoutMs?: number;
}

/** What a scrape reads from the store: counts and one row, never a scan. */
interface Reading {
  readonly logEntries: number;
  readonly queued: number;
  readonly checkpointAt: string | null;
  readonly openFindings: ReadonlyMap<FindingKind, number>;
}

export const DEFAULT_STORE_READ_TIMEOUT_MS = 1000;

/**
 * The gauges that need the store: read once per scrape (the gauges' collects share one
 * read), bounded in time. A read that fails or is slow leaves the values of the last one
 * that succeeded, so a scrape never fails and never waits on a stalled database; a slow
 * read still running is joined by the next scrape, never started twice.
 */
export function installStoreGauges(registry: Registry, source: MetricsSource): void {
  const timeoutMs = source.storeReadTimeoutMs ?? DEFAULT_STORE_READ_TIMEOUT_MS;
  const failures = new Counter({
    name: `${PREFIX}metrics_store_read_failures_total`,
    help: 'Scrapes that kept the last store readings because the read failed or took too long.',
    labelNames: ['reason'] as const,
    registers: [registry],
    // Waits for this scrape's read, so that a scrape's failure is in that same scrape.
    async collect() {
      await refresh();
    },
  });
  for (const reason of ['error', 'timeout']) failures.inc({ reason }, 0);
  let last: Reading | null = null;
  let reading: Promise<void> | null = null;
  let scrape: Promise<void> | null = null;

  const read = async (): Promise<void> => {
    const log = source.store.read.log;
    const [checkpoint, queued, openFindings] = await Promise.all([
      log.latestCheckpoint(),
      log.queuedCount(),
      source.store.read.findings.openByKind(),
    ]);
    last = {
      logEntries: checkpoint?.size ?? 0,
      queued,
      checkpointAt: checkpoint?.at ?? null,
      openFindings,
    };
  };

  // One bounded wait per scrape, shared by the collects of every gauge below.
  const refresh = (): Promise<void> => {
    scrape ??= (async () => {
      reading ??= read()
        .catch(() => void failures.inc({ reason: 'error' }))
        .finally(() => (reading = null));
      const timer = new AbortController();
      const late = sleep(timeoutMs, 'late' as const, { signal: timer.signal }).catch(() => null);
      if ((await Promise.race([reading.then(() => null), late])) === 'late') {
        failures.inc({ reason: 'timeout' });
      }
      timer.abort();
    })().finally(() => (scrape = null));
    return scrape;
  };

  new Gauge({
    name: `${PREFIX}log_entries`,
    help: 'Entries in the log, as of its newest signed checkpoint.',
    registers: [registry],
    async collect() {
      await refresh();
      if (last) this.set(last.logEntries);
    },
  });
  new Gauge({
    name: `${PREFIX}log_integration_lag_events`,
    help: 'Events recorded but not yet in the log (no leaf index, so in no signed checkpoint).',
    registers: [registry],
    async collect() {
      await refresh();
      if (last) this.set(last.queued);
    },
  });
  new Gauge({
    name: `${PREFIX}log_checkpoint_age_seconds`,
    help: 'Seconds since the newest signed checkpoint was made (NaN before the first).',
    registers: [registry],
    async collect() {
      await refresh();
      // From the last reading, against the clock now: a stale reading only makes it older.
      const at = last?.checkpointAt;
      this.set(at ? (source.clock.now().getTime() - Date.parse(at)) / 1000 : NaN);
    },
  });
  new Gauge({
    name: `${PREFIX}findings_open`,
    help: 'Findings in state open (neither acknowledged nor resolved), by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      await refresh();
      if (!last) return;
      for (const kind of FINDING_KINDS) this.set({ kind }, last.openFindings.get(kind) ?? 0);
    },
  });
}
