import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { BENCH_POLICY, redemptionBodies, startBare, startNode, stopProcess } from './server.js';
import { progress, round, tempDir, type Figure } from './util.js';
import { parseExposition, total } from '../test/helpers/metrics.js';

const CONNECTIONS = 64;
const DURATION_S = 10;

export function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((ok, fail) => {
    autocannon(opts, (err, result) =>
      err ? fail(err instanceof Error ? err : new Error(String(err))) : ok(result),
    );
  });
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}

/** `DURATION_S` seconds of redemptions over `CONNECTIONS` connections, bodies in turn. */
export function loadRedemptions(
  url: string,
  token: string,
  bodies: readonly string[],
): Promise<autocannon.Result> {
  let n = 0;
  return run({
    url: `${url}/v1/redemptions`,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: bodies[n++ % bodies.length] }),
      },
    ],
  });
}

/** The allowed redemptions the server's `GET /metrics` has counted so far. */
async function scrapedAllowed(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  const samples = parseExposition(await res.text());
  return total(samples, 'countersign_redemptions_total', { outcome: 'allowed' });
}

/** Redemptions over HTTP against a real server, beside a bare Fastify route, in one run. */
export async function redeemBenchmarks(): Promise<Figure[]> {
  const t = tempDir('redeem');
  const dir = join(t.dir, 'data');
  mkdirSync(dir);
  writeFileSync(join(dir, 'policy.yaml'), BENCH_POLICY);
  const { proc, url } = await startNode(dir);
  let bare: ChildProcess | undefined;
  try {
    const tokens = JSON.parse(readFileSync(join(dir, 'dev-tokens.json'), 'utf8')) as Record<
      string,
      string
    >;
    const bodies = await redemptionBodies(url, tokens, 'bench');
    progress(`redeem: ${DURATION_S}s of redemptions over ${CONNECTIONS} connections`);
    const redeemed = await loadRedemptions(url, tokens['deploy-eu'] as string, bodies);
    // Right after the load: the server's own count of what autocannon saw answered 2xx.
    // Answers still in flight when autocannon stopped are counted by the server alone.
    const counted = await scrapedAllowed(url, tokens.audra as string);
    const rss = peakRssMb(proc.pid as number);
    // The countersign server keeps integrating the log for a while after the load: stop
    // it, so that the baseline runs on a machine as quiet as the redemptions started on.
    await stopProcess(proc);
    progress(`redeem: ${DURATION_S}s against a bare Fastify route`);
    const started = await startBare();
    bare = started.proc;
    const bareResult = await run({
      url: `${started.url}/bare`,
      connections: CONNECTIONS,
      duration: DURATION_S,
    });
    const non2xx = redeemed.non2xx + redeemed.errors;
    if (non2xx > 0) progress(`redeem: ${non2xx} non-2xx answers or errors`);
    return [
      {
        key: 'redeem_http_rps',
        label: `durable redemptions/s over HTTP (${CONNECTIONS} connections, full path)`,
        value: round(redeemed.requests.average, 0),
        unit: '/s',
        goal: { target: 5000, higherIsBetter: true, text: '≥ 5,000/s' },
      },
      {
        key: 'redeem_http_p50_ms',
        label: 'redemption latency p50',
        value: redeemed.latency.p50,
        unit: 'ms',
      },
      {
        key: 'redeem_http_p99_ms',
        label: 'redemption latency p99',
        value: redeemed.latency.p99,
        unit: 'ms',
        goal: { target: 25, higherIsBetter: false, text: '≤ 25 ms' },
      },
      {
        key: 'bare_http_rps',
        label: 'bare Fastify route returning a constant, same run',
        value: round(bareResult.requests.average, 0),
        unit: '/s',
      },
      {
        key: 'redeem_http_ratio_vs_bare',
        label: 'redemptions/s ÷ bare route req/s',
        value: round(redeemed.requests.average / bareResult.requests.average, 3),
        unit: '×',
        goal: { target: 0.15, higherIsBetter: true, text: '≥ 0.15' },
      },
      {
        key: 'redeem_http_non2xx',
        label: 'non-2xx answers or errors during the redemption run',
        value: non2xx,
        unit: '',
      },
      {
        key: 'metrics_redemptions_vs_autocannon',
        label: `allowed redemptions counted by GET /metrics (${counted}) minus autocannon's 2xx (${redeemed['2xx']}); 0 up to the ${CONNECTIONS} in flight`,
        value: counted - redeemed['2xx'],
        unit: '',
      },
      {
        key: 'peak_rss_mb',
        label: 'server peak RSS under the redemption load',
        value: round(rss, 0),
        unit: 'MB',
        goal: { target: 300, higherIsBetter: false, text: '≤ 300 MB' },
      },
    ];
  } finally {
    await stopProcess(proc);
    if (bare) await stopProcess(bare);
    t.cleanup();
  }
}
