import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueWarrant, stagingAction } from '../helpers/chain.js';
import { scrape, type Sample } from '../helpers/metrics.js';
import { TestServer } from '../helpers/server.js';
import { DEPLOY_DIR } from './files.js';

interface Target {
  readonly expr?: string;
}
interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly Target[];
  readonly panels?: readonly Panel[];
}
interface Dashboard {
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: ReadonlyArray<{ readonly definition?: string }> };
}

const dashboard = JSON.parse(
  readFileSync(join(DEPLOY_DIR, 'grafana/countersign-dashboard.json'), 'utf8'),
) as Dashboard;

const panels = (list: readonly Panel[]): Panel[] =>
  list.flatMap((p) => [p, ...panels(p.panels ?? [])]);

/** Every PromQL expression of the dashboard: panel targets and template variable queries. */
const expressions = [
  ...panels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')),
  ...dashboard.templating.list.map((v) => v.definition ?? ''),
];

// The PromQL the dashboard may use around metric names (functions, aggregations, keywords).
const PROMQL = new Set([
  'sum',
  'max',
  'min',
  'by',
  'rate',
  'increase',
  'histogram_quantile',
  'label_values',
  'instance',
]);

/**
 * The metric names an expression selects: what is left once strings, label matchers,
 * ranges, grouping clauses, numbers and PromQL's own words are taken out.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\bby\s*\([^)]*\)/g, '');
  return (bare.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? []).filter((w) => !PROMQL.has(w));
}

describe('the Grafana dashboard', () => {
  let s: TestServer;
  let samples: Sample[];
  beforeAll(async () => {
    s = await TestServer.start();
    // One redemption and one reconciliation pass, so that the series they feed exist.
    const { token } = await issueWarrant(s, { targets: ['eu-1'] });
    const r = await s.http('POST', '/v1/redemptions', {
      as: 'deploy-eu',
      body: { warrant: token, action: stagingAction('eu-1') },
    });
    expect(r.status).toBe(200);
    expect((await s.http('POST', '/v1/reconcile', { as: 'admin' })).status).toBe(200);
    samples = await scrape(s);
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('has an expression in every panel that shows data', () => {
    for (const p of panels(dashboard.panels).filter((x) => x.type !== 'row')) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(metricNames(t.expr ?? ''), p.title).not.toEqual([]);
    }
  });

  it('names only countersign metrics, each found in a real scrape of a real server', () => {
    const scraped = new Set(samples.map((x) => x.name));
    const names = [...new Set(expressions.flatMap(metricNames))];
    expect(names.length).toBeGreaterThan(10);
    const missing = names.filter((n) => !n.startsWith('countersign_') || !scraped.has(n));
    expect(missing).toEqual([]);
  });

  it('covers what an operator watches', () => {
    const all = expressions.join('\n');
    for (const name of [
      'countersign_redemptions_total',
      'countersign_redemption_duration_seconds_bucket',
      'countersign_log_integration_lag_events',
      'countersign_log_checkpoint_age_seconds',
      'countersign_findings_open',
      'countersign_reconcile_duration_seconds_bucket',
      'countersign_webhook_failures_total',
      'countersign_db_pool_connections',
      'countersign_shed_requests_total',
    ]) {
      expect(all, name).toContain(name);
    }
  });
});
