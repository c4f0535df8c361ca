import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest } from '../helpers/chain.js';
import { BROWSER_UNAVAILABLE, launchChromium, newSession } from '../helpers/browser.js';
import { federationConfig, startIssuers, type Issuers } from '../helpers/federation.js';
import { TestServer } from '../helpers/server.js';

/**
 * Signing in to the console the production way, in a real browser: the authorization
 * code flow with PKCE at a loopback OIDC issuer, the session behind an HttpOnly cookie,
 * and a fresh sign-in when an approval needs one, landing back on the same request.
 */
describe.skipIf(BROWSER_UNAVAILABLE !== null)('signing in to the console at an OIDC issuer', () => {
  let issuers: Issuers<'corp'>;
  let s: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    issuers = await startIssuers(['corp']);
    // As a production IdP: it names itself in its answers (RFC 9207) and, below, sends
    // codes only to the redirect URI registered for this client.
    issuers.corp.issInResponse = true;
    const { issuers: all } = federationConfig({
      ...issuers,
      github: issuers.corp,
      k8s: issuers.corp,
      spiffe: issuers.corp,
    });
    s = await TestServer.start({
      config: { oidc: { issuers: all.filter((i) => i.kind === 'human') } },
    });
    issuers.corp.redirectUris = [`${s.url}/auth/callback/corp-sso`];
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await issuers?.close();
  });

  describe('when an approver whose sign-in is too old approves', () => {
    it('sends them through a fresh sign-in, back to the same request, and records the OIDC proof', async () => {
      const id = await createRequest(s, { env: 'staging' });
      // An hour-old sign-in at the issuer: fine for reading, too old to approve (10m).
      issuers.corp.lastAuthTime = Math.floor(Date.now() / 1000) - 3600;
      const { page, context, errors } = await newSession(browser, s.url);
      await page.goto('/sign-in');
      await page.getByRole('link', { name: 'Sign in with corp-sso' }).click();
      await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
      expect(await page.textContent('header')).toContain('corp-sso:dana');
      const session = (await context.cookies()).find((c) => c.name === 'cs_session');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      expect(await page.evaluate(() => [localStorage.length, sessionStorage.length])).toEqual([
        0, 0,
      ]);

      await page.goto(`/requests/${id}`);
      await page.getByTestId('digest-status').waitFor();
      await page.getByLabel('Reason (recorded in the log)').fill('first try');
      const before = issuers.corp.trace.authorizeParams.length;
      await page.getByRole('button', { name: 'Approve' }).click();
      // Off to the issuer with prompt=login, and back on the request page.
      await expect
        .poll(() => issuers.corp.trace.authorizeParams.length, { timeout: 15_000 })
        .toBe(before + 1);
      expect(issuers.corp.trace.authorizeParams.at(-1)).toMatchObject({
        prompt: 'login',
        max_age: '0',
      });
      await page.waitForURL((u) => decodeURIComponent(u.pathname) === `/requests/${id}`);
      await page.getByTestId('digest-status').waitFor();
      expect((await s.http('GET', `/v1/requests/${id}`, { as: 'audra' })).body.approvals).toBe(0);

      await page.getByLabel('Reason (recorded in the log)').fill('after a fresh sign-in');
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByText('Your decision was recorded.').waitFor();
      const stored = await s.http('GET', `/v1/requests/${id}`, { as: 'audra' });
      expect(stored.body.decisions[0]).toMatchObject({
        approver: 'corp-sso:dana',
        reason: 'after a fresh sign-in',
        approverIdentity: {
          via: 'oidc',
          issuer: issuers.corp.issuer,
          subject: 'dana',
          auth_time: issuers.corp.lastAuthTime,
        },
      });
      expect(errors).toEqual([]);
    });
  });

  describe('when the person signs out', () => {
    it('ends the session on the server, so the old cookie no longer works', async () => {
      const { page, context } = await newSession(browser, s.url);
      await page.goto('/sign-in');
      await page.getByRole('link', { name: 'Sign in with corp-sso' }).click();
      await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
      const cookie = (await context.cookies()).find((c) => c.name === 'cs_session')!;
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to countersign' }).waitFor();
      const replayed = await fetch(`${s.url}/auth/session`, {
        headers: { cookie: `cs_session=${cookie.value}` },
      });
      expect(replayed.status).toBe(401);
    });
  });
});
