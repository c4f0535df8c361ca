import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { installRedemptionMetrics, outcomeOf } from '../../src/http/metrics/redemptions.js';
import { ServerMetrics } from '../../src/http/metrics/registry.js';
import { problem } from '../../src/http/problem.js';
import { installLoadShedding } from '../../src/http/shed.js';
import type { FindingKind } from '../../src/reconcile/finding.js';
import type { StoredCheckpoint } from '../../src/service/ports/log.js';
import type { Store } from '../../src/service/ports/store.js';
import { parseExposition, total } from '../helpers/metrics.js';

interface FakeReads {
  checkpoint: () => Promise<StoredCheckpoint | null>;
  queued: () => Promise<number>;
  open: () => Promise<Map<FindingKind, number>>;
}

/** A store that answers only what a scrape reads, each read replaceable. */
function fakeStore(reads: FakeReads): Store {
  return {
    read: {
      log: { latestCheckpoint: () => reads.checkpoint(), queuedCount: () => reads.queued() },
      findings: { openByKind: () => reads.open() },
    },
    poolUsage: () => ({ inUse: 2, idle: 3, waiting: 1 }),
  } as unknown as Store;
}

const checkpoint = (size: number): StoredCheckpoint => ({
  size,
  root: '00',
  note: 'note',
  kid: 'k',
  at: new Date().toISOString(),
});

const healthy = (): FakeReads => ({
  checkpoint: async () => checkpoint(7),
  queued: async () => 2,
  open: async () => new Map([['UNAPPROVED_CHANGE', 4]]),
});

const scrapeOf = async (m: ServerMetrics) => parseExposition((await m.exposition()).text);

describe('outcomeOf', () => {
  it('counts a 200 as allowed, with no code', () => {
    expect(outcomeOf(200, null, false)).toEqual({ outcome: 'allowed', code: null });
  });
  it('counts an answer with a redemption denial code as denied, whatever its status', () => {
    expect(outcomeOf(403, 'WARRANT_EXHAUSTED', false)).toEqual({
      outcome: 'denied',
      code: 'WARRANT_EXHAUSTED',
    });
    expect(outcomeOf(502, 'CONNECTOR_FAILED', false).outcome).toBe('denied');
  });
  it('counts other refusals (load shedding too) as rejected, server failures as errors', () => {
    expect(outcomeOf(403, 'FORBIDDEN', false)).toEqual({ outcome: 'rejected', code: 'FORBIDDEN' });
    expect(outcomeOf(503, 'OVERLOADED', false).outcome).toBe('rejected');
    expect(outcomeOf(500, 'INTERNAL', false).outcome).toBe('error');
  });
  it('counts a dry run apart, allowed or not: it spends nothing', () => {
    expect(outcomeOf(200, null, true).outcome).toBe('dry_run');
    expect(outcomeOf(403, 'SCOPE_EXCEEDED', true)).toEqual({
      outcome: 'dry_run',
      code: 'SCOPE_EXCEEDED',
    });
  });
});

describe('the redemption route hooks', () => {
  describe('when the load shedder refuses a redemption before its handler', () => {
    it('counts the shed request and the redemption answer it got', async () => {
      const metrics = new ServerMetrics({ store: fakeStore(healthy()), clock: systemClock });
      const app = Fastify();
      installLoadShedding(
        app,
        { maxInFlight: 1, maxEventLoopDelayMs: 0, maxHeapUsedBytes: 0 },
        (r) => metrics.shed.inc({ reason: r }),
      );
      installRedemptionMetrics(app, metrics);
      let entered!: () => void;
      const inside = new Promise<void>((ok) => (entered = ok));
      let release!: () => void;
      const gate = new Promise<void>((ok) => (release = ok));
      app.post('/v1/redemptions', async () => {
        entered();
        await gate;
        return { receipt: 'r' };
      });
      app.post('/v1/other', async (_req, reply) =>
        reply.code(403).type('application/problem+json').send(problem('FORBIDDEN', 'no')),
      );
      const first = app.inject({ method: 'POST', url: '/v1/redemptions', payload: {} });
      await inside;
      const shed = await app.inject({ method: 'POST', url: '/v1/redemptions', payload: {} });
      expect(shed.statusCode).toBe(503);
      release();
      expect((await first).statusCode).toBe(200);
      await app.inject({ method: 'POST', url: '/v1/other', payload: {} });

      const samples = await scrapeOf(metrics);
      const redemptions = 'countersign_redemptions_total';
      expect(total(samples, redemptions, { outcome: 'allowed' })).toBe(1);
      expect(total(samples, redemptions, { outcome: 'rejected', code: 'OVERLOADED' })).toBe(1);
      // The other route is not a redemption: its 403 is not counted.
      expect(total(samples, redemptions)).toBe(2);
      expect(total(samples, 'countersign_shed_requests_total', { reason: 'in-flight' })).toBe(1);
      expect(total(samples, 'countersign_redemption_duration_seconds_count')).toBe(2);
      await app.close();
    });
  });
});

describe('the gauges read from the store at scrape time', () => {
  describe('when the store answers', () => {
    it('reports the log, its lag, open findings by kind (0 for none) and the pool', async () => {
      const metrics = new ServerMetrics({ store: fakeStore(healthy()), clock: systemClock });
      const samples = await scrapeOf(metrics);
      expect(total(samples, 'countersign_log_entries')).toBe(7);
      expect(total(samples, 'countersign_log_integration_lag_events')).toBe(2);
      expect(total(samples, 'countersign_findings_open', { kind: 'UNAPPROVED_CHANGE' })).toBe(4);
      expect(total(samples, 'countersign_findings_open', { kind: 'REDEMPTION_ABUSE' })).toBe(0);
      expect(total(samples, 'countersign_db_pool_connections', { state: 'in_use' })).toBe(2);
      expect(total(samples, 'countersign_db_pool_waiting_requests')).toBe(1);
    });

    it('reads the store once per scrape, for every gauge that needs it', async () => {
      const reads = healthy();
      let calls = 0;
      const counted = { ...reads, queued: async () => (calls += 1) };
      const metrics = new ServerMetrics({ store: fakeStore(counted), clock: systemClock });
      await metrics.exposition();
      await metrics.exposition();
      expect(calls).toBe(2);
    });
  });

  describe('when a read fails', () => {
    it('still answers the scrape, keeping the last values and counting the failure', async () => {
      const reads = healthy();
      const metrics = new ServerMetrics({ store: fakeStore(reads), clock: systemClock });
      await metrics.exposition();
      reads.queued = () => Promise.reject(new Error('database gone'));
      const samples = await scrapeOf(metrics);
      expect(total(samples, 'countersign_log_integration_lag_events')).toBe(2);
      expect(
        total(samples, 'countersign_metrics_store_read_failures_total', { reason: 'error' }),
      ).toBe(1);
    });
  });

  describe('when a read never returns', () => {
    it('answers the scrape after the bound, and the next scrape joins the same read', async () => {
      const reads = healthy();
      const metrics = new ServerMetrics({
        store: fakeStore(reads),
        clock: systemClock,
        storeReadTimeoutMs: 10,
      });
      await metrics.exposition();
      let started = 0;
      reads.queued = () => {
        started += 1;
        return new Promise<number>(() => undefined);
      };
      const first = await scrapeOf(metrics);
      const second = await scrapeOf(metrics);
      expect(total(first, 'countersign_log_entries')).toBe(7);
      expect(started).toBe(1);
      expect(
        total(second, 'countersign_metrics_store_read_failures_total', { reason: 'timeout' }),
      ).toBe(2);
    });
  });
});

describe('ServerMetrics.reconcile', () => {
  it('times a pass and counts the rows it read', async () => {
    const metrics = new ServerMetrics({ store: fakeStore(healthy()), clock: systemClock });
    await metrics.reconcile(async () => ({ scanned: 40 }));
    await metrics.reconcile(async () => ({ scanned: 2 }));
    const samples = await scrapeOf(metrics);
    expect(total(samples, 'countersign_reconcile_rows_scanned_total')).toBe(42);
    expect(total(samples, 'countersign_reconcile_duration_seconds_count', { outcome: 'ok' })).toBe(
      2,
    );
  });

  it('counts a failed pass as failed and passes its error on', async () => {
    const metrics = new ServerMetrics({ store: fakeStore(healthy()), clock: systemClock });
    await expect(metrics.reconcile(() => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    const samples = await scrapeOf(metrics);
    expect(
      total(samples, 'countersign_reconcile_duration_seconds_count', { outcome: 'failed' }),
    ).toBe(1);
  });
});
