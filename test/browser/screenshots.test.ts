import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, newSession } from '../helpers/browser.js';
import type { DevPrincipal } from '../helpers/server.js';
import { ROOT, TestServer } from '../helpers/server.js';

/**
 * `npm run screenshots`: the README's pictures of the console, made from a real server
 * and Debian's chromium, never by hand. Skipped in `npm test` (it writes into docs/).
 */
const OUT = join(ROOT, 'docs/screenshots');
/** The new secret version both clusters reported and were seen running. */
const V7 = `sha256:${createHash('sha256').update('payments-db v7').digest('hex')}`;

describe.runIf(process.env.COUNTERSIGN_SCREENSHOTS === '1')('console screenshots', () => {
  let s: TestServer;
  let browser: Browser;
  let chain: string;

  const request = async (subject: string, over: Record<string, unknown>, as: DevPrincipal) => {
    const r = await s.http('POST', '/v1/requests', {
      as,
      body: {
        subject,
        action: 'rotate',
        scope: [{ resource: 'secrets/payments-db', permissions: ['rotate'] }],
        environment: 'prod',
        targets: ['eu-1', 'us-1', 'ap-1'],
        executor: { principal: 'deploy-eu' },
        duration: '2h',
        maxUses: 3,
        reason: 'quarterly rotation of the payments database password',
        ticket: 'CHG-2211',
        ...over,
      },
    });
    if (r.status !== 201) throw new Error(r.text);
    return r.body.id as string;
  };

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    s = await TestServer.start();
    browser = await launchChromium();
    const svc = 'svc:payments-db';
    await s.http('POST', '/v1/nhis', {
      as: 'admin',
      body: { id: svc, kind: 'service_account', owner: 'team-payments' },
    });
    // A rotation approved for three clusters, redeemed and fulfilled at two.
    chain = await request(svc, {}, 'alice');
    for (const a of ['bob', 'carol'] as const) {
      await s.http('POST', `/v1/requests/${chain}/decisions`, {
        as: a,
        body: { decision: 'approve', reason: 'matches CHG-2211' },
      });
    }
    const w = await s.http('GET', `/v1/requests/${chain}/warrant`, { as: 'admin' });
    for (const target of ['eu-1', 'us-1']) {
      const r = await s.http('POST', '/v1/redemptions', {
        as: 'deploy-eu',
        body: {
          warrant: w.body.token,
          action: {
            resource: 'secrets/payments-db',
            permission: 'rotate',
            environment: 'prod',
            target,
          },
        },
      });
      const f = await s.http('POST', '/v1/fulfilments', {
        as: 'deploy-eu',
        body: { receipt: r.body.receipt, target, outcome: 'success', fingerprint: V7 },
      });
      if (f.status !== 201) throw new Error(f.text);
      const o = await s.http('POST', '/v1/observations', {
        as: 'collector',
        body: {
          observations: [
            {
              subject: svc,
              target,
              observedAt: new Date().toISOString(),
              fact: { kind: 'secret_version', fingerprint: V7 },
            },
          ],
        },
      });
      if (o.status >= 300) throw new Error(o.text);
    }
    await s.advanceClock('3h');
    await s.http('POST', '/v1/reconcile', { as: 'admin', body: {} });
    // Work waiting for bob.
    await request(
      svc,
      {
        action: 'grant',
        scope: [{ resource: 'db/orders', permissions: ['read'] }],
        targets: [],
        reason: 'month-end revenue report',
      },
      'alice',
    );
    await request(
      svc,
      { environment: 'staging', reason: 'staging rehearsal of the rotation' },
      'carol',
    );
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
  });

  async function shoot(who: DevPrincipal, path: string, file: string): Promise<Page> {
    const { page } = await newSession(browser, s.url);
    await page.goto('/sign-in');
    await page.getByRole('button', { name: `Sign in as ${who}` }).click();
    await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
    await page.goto(path);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(OUT, file), fullPage: true });
    await page.context().close();
    return page;
  }

  it('writes the inbox, a request, its timeline and the findings', async () => {
    await shoot('bob', '/inbox', 'inbox.png');
    await shoot('bob', `/requests/${chain}`, 'request.png');
    await shoot('audra', `/requests/${chain}/timeline`, 'timeline.png');
    await shoot('audra', '/findings', 'findings.png');
    for (const f of ['inbox.png', 'request.png', 'timeline.png', 'findings.png']) {
      const png = readFileSync(join(OUT, f));
      expect(png.subarray(1, 4).toString(), f).toBe('PNG');
      expect(png.length, f).toBeGreaterThan(10_000);
    }
  });
});
