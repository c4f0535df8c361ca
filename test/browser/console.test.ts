import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueNhi } from '../helpers/chain.js';
import {
  BROWSER_UNAVAILABLE,
  launchChromium,
  newSession,
  seriousViolations,
} from '../helpers/browser.js';
import type { DevPrincipal } from '../helpers/server.js';
import { TestServer } from '../helpers/server.js';

/**
 * The approver console as its users meet it: Debian's chromium on a real server in dev
 * mode, signed in through the console's own sign-in page, the API driven beside it where
 * a machine (the executor) would act.
 */
let s: TestServer;
let browser: Browser;
const open: BrowserContext[] = [];
let subject: string;

async function signedIn(who: DevPrincipal): Promise<{ page: Page; errors: string[] }> {
  const { context, page, errors } = await newSession(browser, s.url);
  open.push(context);
  await page.goto('/sign-in');
  await page.getByRole('button', { name: `Sign in as ${who}` }).click();
  await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
  return { page, errors };
}

async function apiRequest(over: Record<string, unknown> = {}, as: DevPrincipal = 'alice') {
  const r = await s.http('POST', '/v1/requests', {
    as,
    body: {
      subject,
      action: 'grant',
      scope: [{ resource: 'db/orders', permissions: ['read'] }],
      environment: 'staging',
      executor: { principal: 'deploy-eu' },
      duration: '2h',
      maxUses: 1,
      reason: 'nightly export',
      ...over,
    },
  });
  if (r.status !== 201) throw new Error(`request: ${r.text}`);
  return r.body.id as string;
}

const STATE_CHANGING = /^(Approve|Deny|Acknowledge|Submit request|Withdraw|Revoke)/;

describe.skipIf(BROWSER_UNAVAILABLE !== null)('the approver console', () => {
  let requestId: string;

  beforeAll(async () => {
    s = await TestServer.start();
    browser = await launchChromium();
    subject = uniqueNhi('svc');
    const nhi = await s.http('POST', '/v1/nhis', {
      as: 'admin',
      body: { id: subject, kind: 'service_account', owner: 'team-data' },
    });
    if (nhi.status !== 201) throw new Error(nhi.text);
  }, 60_000);

  afterAll(async () => {
    for (const c of open) await c.close();
    await browser?.close();
    await s?.stop();
  });

  describe('when a requester fills in the form for prod', () => {
    it('shows the rule that will match and the two approvers needed, then files the request', async () => {
      const { page, errors } = await signedIn('alice');
      await page.goto('/requests/new');
      await page.getByLabel('NHI (subject)').fill(subject);
      await page.getByLabel('Resource 1').fill('db/orders');
      await page.getByLabel('Permissions 1').fill('read');
      await page.getByLabel('Environment').fill('prod');
      await page.getByLabel('Executor principal').fill('deploy-eu');
      await page.getByLabel('Duration').fill('2h');
      await page.getByLabel('Max uses').fill('1');
      await page.getByLabel('Reason').fill('quarterly revenue export');
      await page.getByLabel('Ticket').fill('CHG-1042');
      const preview = page.getByTestId('preview');
      await expect.poll(() => preview.textContent(), { timeout: 15_000 }).toContain('prod');
      const text = (await preview.textContent()) ?? '';
      expect(text).toContain('2 approvals needed');
      expect(text).toContain('bob');
      expect(text).toContain('carol');
      const before = (await s.http('GET', '/v1/requests?limit=200', { as: 'audra' })).body;
      expect(before.requests).toHaveLength(0);
      await page.getByRole('button', { name: 'Submit request' }).click();
      await page.waitForURL(/\/requests\/sha256(:|%3A)[0-9a-f]{64}$/);
      requestId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() as string);
      const stored = await s.http('GET', `/v1/requests/${requestId}`, { as: 'audra' });
      expect(stored.body).toMatchObject({ state: 'pending', requiredApprovals: 2 });
      expect(stored.body.body).toMatchObject({ environment: 'prod', ticket: 'CHG-1042' });
      expect(errors).toEqual([]);
    });
  });

  describe('when the first approver opens it', () => {
    it('shows the digest checked in the browser, and records the approval', async () => {
      const { page, errors } = await signedIn('bob');
      await page
        .getByRole('link', { name: new RegExp(subject) })
        .first()
        .click();
      await page.waitForURL(/\/requests\/sha256(:|%3A)/);
      await expect
        .poll(() => page.getByTestId('digest-status').textContent(), { timeout: 15_000 })
        .toContain('Digest checked in your browser');
      await page.getByLabel('Reason (recorded in the log)').fill('matches CHG-1042');
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByText('Your decision was recorded.').waitFor();
      await expect.poll(() => page.textContent('main'), { timeout: 15_000 }).toContain('1 of 2');
      const stored = await s.http('GET', `/v1/requests/${requestId}`, { as: 'audra' });
      expect(stored.body.approvals).toBe(1);
      expect(stored.body.decisions[0]).toMatchObject({
        approver: 'bob',
        reason: 'matches CHG-1042',
      });
      expect(errors).toEqual([]);
    });

    it('gives a requester no approval to give on their own request', async () => {
      const own = await apiRequest({ reason: 'my own' }, 'bob');
      const { page } = await signedIn('bob');
      await page.goto(`/requests/${own}`);
      await page.getByTestId('digest-status').waitFor();
      await expect(page.getByRole('button', { name: 'Approve' }).isDisabled()).resolves.toBe(true);
      expect(await page.getByTestId('decision-blocked').textContent()).toMatch(/request/i);
    });
  });

  describe('when the second approver approves and the executor redeems', () => {
    it('shows the warrant, then the redemption, with its inclusion verified in the browser', async () => {
      const carol = await signedIn('carol');
      await carol.page.goto(`/requests/${requestId}`);
      await carol.page.getByTestId('digest-status').waitFor();
      await carol.page.getByLabel('Reason (recorded in the log)').fill('second pair of eyes');
      await carol.page.getByRole('button', { name: 'Approve' }).click();
      await carol.page.getByText('Your decision was recorded.').waitFor();

      const w = await s.http('GET', `/v1/requests/${requestId}/warrant`, { as: 'admin' });
      expect(w.status, w.text).toBe(200);
      const r = await s.http('POST', '/v1/redemptions', {
        as: 'deploy-eu',
        body: {
          warrant: w.body.token,
          action: { resource: 'db/orders', permission: 'read', environment: 'prod' },
        },
      });
      expect(r.status, r.text).toBe(200);

      const { page, errors } = await signedIn('bob');
      await page.goto(`/requests/${requestId}/timeline`);
      await page.getByTestId('event-warrant.issued').waitFor();
      const redemption = page.getByTestId('event-redemption.allowed');
      await redemption.waitFor();
      // The integrator signs a checkpoint every 200 ms: until one covers the redemption the
      // check cannot pass, so a finished check that did not is asked again.
      const status = redemption.getByRole('status');
      let verdict = '';
      for (let attempt = 0; attempt < 20 && !verdict.includes('Included in the log'); attempt++) {
        if (attempt > 0) await page.waitForTimeout(300);
        await redemption.getByRole('button', { name: 'Verify inclusion' }).click();
        await expect
          .poll(() => status.textContent(), { timeout: 20_000 })
          .toMatch(/Included in the log|NOT verified|Could not verify/);
        verdict = (await status.textContent()) ?? '';
      }
      expect(verdict).toContain('Included in the log');
      expect(errors).toEqual([]);
    });
  });

  describe('when an auditor opens the same chain', () => {
    it('shows every event and no control that changes state', async () => {
      const { page } = await signedIn('audra');
      await page.goto(`/requests/${requestId}/timeline`);
      await page.getByTestId('event-redemption.allowed').waitFor();
      await page.getByTestId('event-warrant.issued').waitFor();
      for (const path of [`/requests/${requestId}`, '/findings', '/exceptions', '/log', '/inbox']) {
        await page.goto(path);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await page.waitForLoadState('networkidle');
        const names = await page.getByRole('button').allTextContents();
        expect(
          names.filter((n) => STATE_CHANGING.test(n.trim())),
          path,
        ).toEqual([]);
      }
    });
  });

  describe('when the rendered object is altered in transit', () => {
    it('shows a digest mismatch and cannot be approved', async () => {
      const id = await apiRequest({ reason: 'rotate the export key' });
      const { page } = await signedIn('bob');
      await page.route('**/v1/requests/*/review', async (route) => {
        const res = await route.fetch();
        const json = (await res.json()) as { body: { reason: string } };
        json.body.reason = 'rotate the export key and drop the audit table';
        await route.fulfill({ response: res, json });
      });
      await page.goto(`/requests/${id}`);
      await expect
        .poll(() => page.getByRole('alert').allTextContents(), { timeout: 15_000 })
        .toEqual(
          expect.arrayContaining([expect.stringContaining('does not hash to the request id')]),
        );
      await expect(page.getByRole('button', { name: 'Approve' }).isDisabled()).resolves.toBe(true);
      const stored = await s.http('GET', `/v1/requests/${id}`, { as: 'audra' });
      expect(stored.body.approvals).toBe(0);
    });
  });

  describe('when someone else tries to use the session', () => {
    it('sends the CSP and frame headers with every page', async () => {
      const { page } = await signedIn('bob');
      for (const path of ['/', `/requests/${requestId}`, '/sign-in']) {
        const res = await page.goto(path);
        const h = res!.headers();
        expect(h['content-security-policy']).toContain("default-src 'self'");
        expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
        expect(h['content-security-policy']).not.toContain('unsafe-inline');
        expect(h['x-frame-options']).toBe('DENY');
      }
    });

    it('refuses a cross-origin POST that carries the session cookie, and records nothing', async () => {
      const id = await apiRequest({ reason: 'cross-origin target' });
      const { page } = await signedIn('bob');
      const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      expect(cookie).toContain('cs_session=');
      const attempt = (headers: Record<string, string>) =>
        fetch(`${s.url}/v1/requests/${id}/decisions`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ decision: 'approve', reason: 'forged' }),
        });
      const forged = await attempt({
        origin: 'http://evil.example',
        'sec-fetch-site': 'cross-site',
        'x-countersign-console': '1',
      });
      expect(forged.status).toBe(403);
      expect(((await forged.json()) as { code: string }).code).toBe('CSRF_REFUSED');
      const noHeader = await attempt({ origin: s.url, 'sec-fetch-site': 'same-origin' });
      expect(noHeader.status).toBe(403);
      const stored = await s.http('GET', `/v1/requests/${id}`, { as: 'audra' });
      expect(stored.body.approvals).toBe(0);
    });

    it('renders markup, script links, bidi overrides and long strings in user fields as inert text', async () => {
      const markup = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
      const odd = uniqueNhi('svc');
      const nhi = await s.http('POST', '/v1/nhis', {
        as: 'admin',
        body: {
          id: odd,
          kind: 'service_account',
          owner: 'team-data',
          description: `<a href="javascript:window.__pwned=4">docs</a> \u202Etxt.exe`,
        },
      });
      expect(nhi.status, nhi.text).toBe(201);
      const id = await apiRequest({
        subject: odd,
        reason: `${markup} \u202Egnp.exe ${'A'.repeat(1_900)}`,
        ticket: 'javascript:window.__pwned=3',
      });
      const { page, errors } = await signedIn('bob');
      for (const path of [`/requests/${id}`, `/requests/${id}/timeline`, '/inbox']) {
        await page.goto(path);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await page.waitForLoadState('networkidle');
        expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
        expect(await page.locator('main img, main script').count()).toBe(0);
        expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
      }
      await page.goto(`/requests/${id}`);
      await page.getByTestId('digest-status').waitFor();
      // The registry's description comes by a query of its own, which may answer later.
      await page.getByRole('heading', { name: /about the subject/i }).waitFor();
      const main = (await page.textContent('main')) ?? '';
      expect(main).toContain('<img src=x onerror=');
      expect(main).toContain('javascript:window.__pwned=3');
      expect(main).toContain('<a href="javascript:window.__pwned=4">docs</a>');
      expect(main).toContain('U+202E');
      expect(main).not.toContain('A'.repeat(1_900));
      await page
        .getByRole('button', { name: /show all/i })
        .first()
        .click();
      expect(await page.textContent('main')).toContain('A'.repeat(1_900));

      // Longer than any field the API takes: 10,000 characters, altered in transit.
      await page.route('**/v1/requests/*/review', async (route) => {
        const res = await route.fetch();
        const json = (await res.json()) as { body: { reason: string } };
        json.body.reason = 'B'.repeat(10_000);
        await route.fulfill({ response: res, json });
      });
      await page.goto(`/requests/${id}`);
      await page.getByRole('heading', { name: 'What you are approving' }).waitFor();
      expect(await page.textContent('main')).not.toContain('B'.repeat(10_000));
      await page
        .getByRole('button', { name: /show all/i })
        .first()
        .click();
      expect(await page.textContent('main')).toContain('B'.repeat(10_000));
      expect(errors).toEqual([]);
    });
  });

  describe('when axe-core checks every page', () => {
    it('finds no serious or critical violation', async () => {
      const anonymous = await newSession(browser, s.url);
      open.push(anonymous.context);
      await anonymous.page.goto('/sign-in');
      await anonymous.page.getByRole('heading', { level: 1 }).waitFor();
      const found: Record<string, unknown[]> = {};
      const signin = await seriousViolations(anonymous.page);
      if (signin.length > 0) found['/sign-in'] = signin;
      for (const who of ['bob', 'audra'] as const) {
        const { page } = await signedIn(who);
        for (const path of [
          '/inbox',
          '/requests/new',
          `/requests/${requestId}`,
          `/requests/${requestId}/timeline`,
          '/findings',
          '/exceptions',
          '/log',
        ]) {
          await page.goto(path);
          await page.getByRole('heading', { level: 1 }).waitFor();
          await page.waitForLoadState('networkidle');
          const v = await seriousViolations(page);
          if (v.length > 0) found[`${who} ${path}`] = v;
        }
      }
      expect(found).toEqual({});
    });
  });
});
