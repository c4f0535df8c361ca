import autocannon from 'autocannon';
import { describe, expect, it } from 'vitest';
import { issueWarrant } from '../helpers/chain.js';
import { query, rowCounts } from '../helpers/db.js';
import { TestServer } from '../helpers/server.js';
import { redemptionBody, rssMb } from './support.js';

const MAX_IN_FLIGHT = 8;
const CONNECTIONS = 96;
const AMOUNT = 5000;
const RSS_LIMIT_MB = 300;

function header(headers: unknown, name: string): string | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1]);
    }
    return undefined;
  }
  const h = headers as Record<string, string | undefined>;
  return h[name] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
}

describe('load shedding', () => {
  describe('when sustained load exceeds maxInFlight', () => {
    it('sheds with 503 OVERLOADED and Retry-After, stays up and bounded, and refused requests change nothing', async () => {
      const s = await TestServer.start({ config: { maxInFlight: MAX_IN_FLIGHT } });
      try {
        const { token, warrantId } = await issueWarrant(s, { maxUses: 10 });
        const before = rowCounts(s.dataDir);
        const statuses = new Map<number, number>();
        let shedWithoutRetryAfter = 0;
        let shedWrongCode = 0;
        let peakRss = 0;
        const sampler = setInterval(() => {
          peakRss = Math.max(peakRss, rssMb(s.proc.pid as number));
        }, 100);
        const result = await autocannon({
          url: s.url,
          connections: CONNECTIONS,
          // A fixed amount, not a duration: autocannon then waits for every answer, so each
          // request the server processed is counted here.
          amount: AMOUNT,
          requests: [
            {
              method: 'POST',
              path: '/v1/redemptions',
              headers: {
                authorization: `Bearer ${s.tokens['deploy-eu']}`,
                'content-type': 'application/json',
              },
              body: JSON.stringify(redemptionBody(token)),
              onResponse: (status, body, _ctx, headers) => {
                statuses.set(status, (statuses.get(status) ?? 0) + 1);
                if (status === 503) {
                  if (!/^\d+$/.test(header(headers, 'retry-after') ?? ''))
                    shedWithoutRetryAfter += 1;
                  if ((JSON.parse(body) as { code?: string }).code !== 'OVERLOADED')
                    shedWrongCode += 1;
                }
              },
            },
          ],
        });
        clearInterval(sampler);

        const count = (code: number): number => statuses.get(code) ?? 0;
        const processed = count(200) + count(403);
        console.log(
          `overload: ${result.requests.total} requests in ${result.duration.toFixed(1)}s from ${CONNECTIONS} ` +
            `connections, maxInFlight ${MAX_IN_FLIGHT}: ${count(200)} allowed, ${count(403)} ` +
            `refused by the checks, ${count(503)} shed (503), ${result.errors} errors; ` +
            `peak RSS ${peakRss.toFixed(0)} MB`,
        );
        expect(s.proc.exitCode).toBeNull();
        expect(count(503)).toBeGreaterThan(0);
        expect(shedWithoutRetryAfter).toBe(0);
        expect(shedWrongCode).toBe(0);
        expect([...statuses.keys()].sort()).toEqual([200, 403, 503].filter((c) => statuses.has(c)));
        expect(count(200)).toBe(10);
        expect(result.errors).toBe(0);
        expect(peakRss).toBeLessThan(RSS_LIMIT_MB);

        // Every request that got past the shedder wrote exactly one redemption row and one
        // event; the shed ones wrote nothing.
        const after = rowCounts(s.dataDir);
        expect((after.redemptions ?? 0) - (before.redemptions ?? 0)).toBe(processed);
        const events = query<{ n: number }>(
          s.dataDir,
          "select count(*) as n from events where type like 'redemption.%' and (warrant_id = ? or warrant_id is null)",
          warrantId,
        );
        expect(events[0]?.n).toBe(processed);
        expect((await s.http('GET', '/healthz')).status).toBe(200);
      } finally {
        await s.stop();
      }
    }, 60_000);
  });
});
