import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestBody } from '../test/fixtures/request-body.js';
import { loadRedemptions, run } from './redeem.js';
import { BENCH_POLICY, call, redemptionBodies, startNode, stopProcess } from './server.js';
import { progress, round, tempDir, type Figure } from './util.js';

/** Distinct single-use warrants the cold run spends, one per request. */
const COLD_WARRANTS = 12_000;
const CONNECTIONS = 64;
/** Issuing runs this many request → approve → fetch chains at once. */
const ISSUERS = 16;

/**
 * `COLD_WARRANTS` single-use warrants issued through the API, each as a redemption body.
 * Eight subjects share them; each warrant names its own table.
 */
async function coldBodies(url: string, tokens: Record<string, string>): Promise<string[]> {
  const subjects = Array.from({ length: 8 }, (_, i) => `agent:cold-${i}`);
  for (const id of subjects) {
    await call(url, tokens.admin!, 'POST', '/v1/nhis', { id, kind: 'ai_agent', owner: 't' });
  }
  const bodies: string[] = new Array<string>(COLD_WARRANTS);
  let next = 0;
  const issuer = async (): Promise<void> => {
    while (next < COLD_WARRANTS) {
      const i = next++;
      const table = `db/cold${i}`;
      const body = requestBody(subjects[i % subjects.length]!, {
        scope: [{ resource: table, permissions: ['read'] }],
        duration: '8h',
        maxUses: 1,
        reason: `cold ${i}`,
      });
      const r = await call(url, tokens.alice!, 'POST', '/v1/requests', body);
      await call(url, tokens.bob!, 'POST', `/v1/requests/${r.id}/decisions`, {
        decision: 'approve',
      });
      const w = await call(url, tokens.admin!, 'GET', `/v1/requests/${r.id}/warrant`);
      bodies[i] = JSON.stringify({
        warrant: w.token,
        action: { resource: table, permission: 'read', environment: 'staging' },
      });
    }
  };
  await Promise.all(Array.from({ length: ISSUERS }, issuer));
  return bodies;
}

/**
 * The second load shape of issue 17, beside the first on the same server: warm (eight
 * warrants the server has verified before, reused) against cold (every request brings a
 * warrant never seen, so each pays the JWS verification and a first use).
 */
export async function redeemColdBenchmarks(): Promise<Figure[]> {
  const t = tempDir('redeem-cold');
  const dir = join(t.dir, 'data');
  mkdirSync(dir);
  writeFileSync(join(dir, 'policy.yaml'), BENCH_POLICY);
  const { proc, url } = await startNode(dir);
  try {
    const tokens = JSON.parse(readFileSync(join(dir, 'dev-tokens.json'), 'utf8')) as Record<
      string,
      string
    >;
    progress(`redeem-cold: issuing ${COLD_WARRANTS.toLocaleString('en-US')} single-use warrants`);
    const cold = await coldBodies(url, tokens);
    const warmBodies = await redemptionBodies(url, tokens, 'warm');
    progress('redeem-cold: warm (8 warrants, reused)');
    const warm = await loadRedemptions(url, tokens['deploy-eu']!, warmBodies);
    progress(`redeem-cold: cold (each of ${COLD_WARRANTS.toLocaleString('en-US')} warrants once)`);
    let n = 0;
    const started = process.hrtime.bigint();
    const coldRun = await run({
      url: `${url}/v1/redemptions`,
      connections: CONNECTIONS,
      amount: COLD_WARRANTS,
      requests: [
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${tokens['deploy-eu']}`,
            'content-type': 'application/json',
          },
          setupRequest: (req) => ({ ...req, body: cold[n++ % cold.length] }),
        },
      ],
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const coldRps = coldRun['2xx'] / seconds;
    const refused = coldRun.non2xx + coldRun.errors;
    if (refused > 0) progress(`redeem-cold: ${refused} non-2xx answers or errors`);
    return [
      {
        key: 'redeem_http_cold_rps',
        label: `redemptions/s when every request brings a warrant never verified (${COLD_WARRANTS.toLocaleString('en-US')} single-use warrants, ${CONNECTIONS} connections)`,
        value: round(coldRps, 0),
        unit: '/s',
      },
      {
        key: 'redeem_http_cold_p99_ms',
        label: 'cold redemption latency p99',
        value: coldRun.latency.p99,
        unit: 'ms',
      },
      {
        key: 'redeem_http_warm_rps_same_server',
        label: 'warm redemptions/s on the same server, just before',
        value: round(warm.requests.average, 0),
        unit: '/s',
      },
      {
        key: 'redeem_http_cold_ratio_vs_warm',
        label: 'cold ÷ warm redemptions/s, same server',
        value: round(coldRps / warm.requests.average, 3),
        unit: '×',
      },
      {
        key: 'redeem_http_cold_non2xx',
        label: 'non-2xx answers or errors during the cold run (each warrant is spent once)',
        value: refused,
        unit: '',
      },
    ];
  } finally {
    await stopProcess(proc);
    t.cleanup();
  }
}
