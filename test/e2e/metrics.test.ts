import { describe, expect, it } from 'vitest';
import { issueWarrant, stagingAction } from '../helpers/chain.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { parseExposition, scrape, scrapePortUrl, total, type Sample } from '../helpers/metrics.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

const REDEMPTIONS = 'countersign_redemptions_total';

describeOnEveryStore('Prometheus metrics', (store) => {
  let s: TestServer;
  serveDuringSuite(
    { start: () => store.start({ config: { metrics: { listen: '127.0.0.1:0' } } }) },
    (started) => (s = started),
  );

  const redeem = (warrant: string, as: 'deploy-eu' | 'deploy-us' = 'deploy-eu') =>
    s.http('POST', '/v1/redemptions', {
      as,
      body: { warrant, action: stagingAction('eu-1') },
    });

  describe('when N redemptions are allowed and M denied', () => {
    it('counts exactly N allowed and M denied, by code, and times each', async () => {
      const before = await scrape(s);
      const allowedN = 3;
      const { token } = await issueWarrant(s, { maxUses: allowedN, targets: ['eu-1'] });
      for (let i = 0; i < allowedN; i++) expect((await redeem(token)).status).toBe(200);
      const denials = [
        await redeem(token), // every use spent
        await redeem(token), // and again
        await redeem(token, 'deploy-us'), // not the executor the warrant names
      ];
      expect(denials.map((r) => r.body.code)).toEqual([
        'WARRANT_EXHAUSTED',
        'WARRANT_EXHAUSTED',
        'EXECUTOR_MISMATCH',
      ]);
      const after = await scrape(s);

      const delta = (name: string, labels: Record<string, string>) =>
        total(after, name, labels) - total(before, name, labels);
      expect(delta(REDEMPTIONS, { outcome: 'allowed' })).toBe(allowedN);
      expect(delta(REDEMPTIONS, { outcome: 'denied' })).toBe(denials.length);
      expect(delta(REDEMPTIONS, { outcome: 'denied', code: 'WARRANT_EXHAUSTED' })).toBe(2);
      expect(delta(REDEMPTIONS, { outcome: 'denied', code: 'EXECUTOR_MISMATCH' })).toBe(1);
      expect(delta('countersign_redemption_duration_seconds_count', { outcome: 'allowed' })).toBe(
        allowedN,
      );
      expect(delta('countersign_redemption_duration_seconds_count', { outcome: 'denied' })).toBe(
        denials.length,
      );
    });
  });

  describe('when a redemption is refused before any decision', () => {
    it('counts it as rejected by its problem code, not as a denial', async () => {
      const before = await scrape(s);
      const r = await s.http('POST', '/v1/redemptions', { body: { warrant: 'x', action: {} } });
      expect(r.status).toBe(401);
      const after = await scrape(s);
      const labels = { outcome: 'rejected', code: 'UNAUTHENTICATED' };
      expect(total(after, REDEMPTIONS, labels) - total(before, REDEMPTIONS, labels)).toBe(1);
      expect(total(after, REDEMPTIONS, { outcome: 'denied' })).toBe(
        total(before, REDEMPTIONS, { outcome: 'denied' }),
      );
    });
  });

  describe('when the store is read at scrape time', () => {
    it('reports the log, its lag, checkpoint age, open findings and the pool', async () => {
      await s.http('POST', '/v1/reconcile', { as: 'admin' });
      const samples = await scrape(s);
      const one = (name: string): Sample | undefined => samples.find((x) => x.name === name);
      expect(one('countersign_log_entries')?.value).toBeGreaterThan(0);
      expect(one('countersign_log_integration_lag_events')?.value).toBeGreaterThanOrEqual(0);
      expect(one('countersign_log_checkpoint_age_seconds')?.value).toBeGreaterThanOrEqual(0);
      expect(samples.filter((x) => x.name === 'countersign_findings_open')).toHaveLength(6);
      expect(total(samples, 'countersign_reconcile_duration_seconds_count')).toBeGreaterThan(0);
      expect(total(samples, 'countersign_db_pool_connections')).toBeGreaterThan(0);
      expect(one('countersign_process_cpu_seconds_total')).toBeDefined();
    });
  });

  describe('who may read GET /metrics on the API port', () => {
    it('answers 401 without a token', async () => {
      expect((await s.http('GET', '/metrics')).status).toBe(401);
    });

    it('answers 403 FORBIDDEN to a role its row does not grant', async () => {
      for (const as of ['deploy-eu', 'alice', 'bob', 'collector'] as const) {
        const r = await s.http('GET', '/metrics', { as });
        expect([as, r.status, r.body.code]).toEqual([as, 403, 'FORBIDDEN']);
      }
    });

    it('answers 200 in Prometheus text to an auditor and to an admin', async () => {
      for (const as of ['audra', 'admin'] as const) {
        const r = await s.http('GET', '/metrics', { as });
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
        expect(parseExposition(r.text).length).toBeGreaterThan(0);
      }
    });
  });

  describe('the scrape port of metrics.listen', () => {
    it('serves GET /metrics without credentials', async () => {
      const r = await fetch(scrapePortUrl(s));
      expect(r.status).toBe(200);
      expect(total(parseExposition(await r.text()), REDEMPTIONS)).toBeGreaterThan(0);
    });

    it('serves nothing else: the API is not there', async () => {
      const base = scrapePortUrl(s).replace(/\/metrics$/, '');
      for (const path of ['/healthz', '/v1/requests', '/openapi.json', '/metrics/x']) {
        expect([path, (await fetch(base + path)).status]).toEqual([path, 404]);
      }
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
    });
  });
});
