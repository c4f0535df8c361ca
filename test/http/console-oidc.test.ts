import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest } from '../helpers/chain.js';
import { CONSOLE_CALL, ConsoleServer, cookieFrom } from '../helpers/console.js';
import { federationConfig, startIssuers, type Issuers } from '../helpers/federation.js';
import type { TestIssuer } from '../helpers/oidc-issuer.js';

let issuers: Issuers;
let corp: TestIssuer;
let s: ConsoleServer;
beforeAll(async () => {
  issuers = await startIssuers();
  corp = issuers.corp;
  // As a production IdP: it names itself in its answers (RFC 9207) and sends codes only to
  // the redirect URI registered for this client.
  corp.issInResponse = true;
  s = await ConsoleServer.start({ config: { oidc: federationConfig(issuers) } });
  corp.redirectUris = [`${s.url}/auth/callback/corp-sso`];
});
afterAll(async () => {
  await s?.stop();
  await issuers?.close();
});

/**
 * Walks the browser's part of the code flow by hand: our login redirect, the issuer's
 * authorization endpoint, and back to our callback with the login cookie; `tamper` may
 * change the issuer's answer on the way back.
 */
async function signIn(query: string, tamper: (back: URL) => void = () => {}) {
  const login = await s.http('GET', `/auth/login?issuer=corp-sso&${query}`);
  expect(login.status, login.text).toBe(302);
  const loginCookie = cookieFrom(login, 'cs_login');
  const at = await fetch(login.headers.get('location')!, { redirect: 'manual' });
  const back = new URL(at.headers.get('location')!);
  tamper(back);
  const callback = await s.http('GET', `${back.pathname}${back.search}`, { cookie: loginCookie });
  return { login, callback, cookie: cookieFrom(callback), back };
}

describe('signing in to the console at a human issuer', () => {
  describe('when the person signs in', () => {
    it('asks the issuer for its discovery document once for many sign-ins', async () => {
      await s.http('GET', '/auth/login?issuer=corp-sso');
      const before = corp.discoveryFetches;
      const logins = await Promise.all(
        Array.from({ length: 5 }, () => s.http('GET', '/auth/login?issuer=corp-sso')),
      );
      expect(logins.map((l) => l.status)).toEqual([302, 302, 302, 302, 302]);
      expect(corp.discoveryFetches).toBe(before);
    });

    it('sends the browser to the issuer with PKCE S256, state and nonce', async () => {
      const { login } = await signIn('returnTo=/inbox');
      const to = new URL(login.headers.get('location')!);
      expect(to.origin + to.pathname).toBe(`${corp.issuer}/authorize`);
      const q = Object.fromEntries(to.searchParams);
      expect(q).toMatchObject({
        response_type: 'code',
        client_id: 'countersign',
        redirect_uri: `${s.url}/auth/callback/corp-sso`,
        scope: 'openid profile email',
        code_challenge_method: 'S256',
      });
      expect(q['state']!.length).toBeGreaterThanOrEqual(43);
      expect(q['nonce']!.length).toBeGreaterThanOrEqual(43);
      expect(q['code_challenge']).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q['prompt']).toBeUndefined();
    });

    it('exchanges the code with its verifier and lands on returnTo, signed in as the issuer says', async () => {
      const { callback, cookie } = await signIn('returnTo=/requests/abc?x=1');
      expect(callback.status).toBe(302);
      expect(callback.headers.get('location')).toBe('/requests/abc?x=1');
      const form = corp.trace.tokenForms.at(-1)!;
      expect(form['grant_type']).toBe('authorization_code');
      expect(form['code_verifier']).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const session = await s.http('GET', '/auth/session', { cookie });
      expect(session.body).toMatchObject({
        principal: { id: 'corp-sso:dana', roles: ['approver'], groups: ['sre'], via: 'oidc' },
        mode: 'oidc',
      });
      expect(session.body.signedInAt).toBe(new Date(corp.lastAuthTime! * 1000).toISOString());
    });

    it('returns only to a path on this origin', async () => {
      for (const bad of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
        const { callback } = await signIn(`returnTo=${encodeURIComponent(bad)}`);
        expect(callback.headers.get('location'), bad).toBe('/');
      }
    });
  });

  describe('when the callback is not the one this browser started', () => {
    it('refuses it without the login cookie, and a second use of the same state', async () => {
      const login = await s.http('GET', '/auth/login?issuer=corp-sso');
      const at = await fetch(login.headers.get('location')!, { redirect: 'manual' });
      const back = new URL(at.headers.get('location')!);
      const stolen = await s.http('GET', `${back.pathname}${back.search}`);
      expect(stolen.headers.get('location')).toBe('/sign-in?error=SIGN_IN_FAILED');
      expect(cookieFrom(stolen)).toBeUndefined();
      const { back: used, login: begun } = await signIn('');
      for (const cookie of [
        cookieFrom(begun, 'cs_login'),
        `cs_login=${used.searchParams.get('state')}`,
      ]) {
        const replay = await s.http('GET', `${used.pathname}${used.search}`, { cookie });
        expect(replay.headers.get('location')).toBe('/sign-in?error=SIGN_IN_FAILED');
      }
    });

    it('refuses an answer whose iss names another issuer, before any token request', async () => {
      const before = corp.trace.tokenForms.length;
      const { back, callback, cookie } = await signIn('', (b) =>
        b.searchParams.set('iss', `${corp.issuer}/`),
      );
      expect(back.searchParams.get('iss')).toBe(`${corp.issuer}/`);
      expect(callback.headers.get('location')).toBe('/sign-in?error=SIGN_IN_FAILED');
      expect(cookie).toBeUndefined();
      expect(corp.trace.tokenForms.length).toBe(before);
    });

    it('refuses an answer without the iss its issuer advertises, before any token request', async () => {
      const before = corp.trace.tokenForms.length;
      const { callback, cookie } = await signIn('', (b) => b.searchParams.delete('iss'));
      expect(callback.headers.get('location')).toBe('/sign-in?error=SIGN_IN_FAILED');
      expect(cookie).toBeUndefined();
      expect(corp.trace.tokenForms.length).toBe(before);
    });

    it("refuses a code brought to another issuer's callback or the old shared one, sending it nowhere", async () => {
      const before = corp.trace.tokenForms.length;
      for (const path of ['/auth/callback/partner-sso', '/auth/callback']) {
        const { callback, cookie } = await signIn('', (b) => (b.pathname = path));
        expect(callback.headers.get('location'), path).toBe('/sign-in?error=SIGN_IN_FAILED');
        expect(cookie, path).toBeUndefined();
      }
      expect(corp.trace.tokenForms.length).toBe(before);
    });

    it("refuses an ID token whose nonce is not this login's", async () => {
      corp.nonceOverride = 'someone-elses';
      try {
        const { callback, cookie } = await signIn('');
        expect(callback.headers.get('location')).toBe('/sign-in?error=SIGN_IN_FAILED');
        expect(cookie).toBeUndefined();
      } finally {
        corp.nonceOverride = null;
      }
    });
  });

  describe('when the person approves', () => {
    it('records the same identity proof as the API path', async () => {
      const id = await createRequest(s, { env: 'staging' });
      const { cookie } = await signIn('');
      const r = await s.http('POST', `/v1/requests/${id}/decisions`, {
        cookie,
        headers: CONSOLE_CALL,
        body: { decision: 'approve', reason: 'seen in the console' },
      });
      expect(r.status, r.text).toBe(201);
      expect(r.body.decision).toMatchObject({
        approver: 'corp-sso:dana',
        approverIdentity: {
          via: 'oidc',
          issuer: corp.issuer,
          subject: 'dana',
          auth_time: corp.lastAuthTime,
        },
      });
      expect(r.body.decision.approverIdentity.token_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('refuses AUTH_TOO_OLD on a stale sign-in, and decides after a fresh one', async () => {
      const id = await createRequest(s, { env: 'staging' });
      corp.lastAuthTime = Math.floor(Date.now() / 1000) - 3600;
      const { cookie: stale } = await signIn('');
      const review = await s.http('GET', `/v1/requests/${id}/review`, { cookie: stale });
      expect(review.body.you).toMatchObject({ mayDecide: true, needsFreshSignIn: true });
      const refused = await s.http('POST', `/v1/requests/${id}/decisions`, {
        cookie: stale,
        headers: CONSOLE_CALL,
        body: { decision: 'approve', reason: 'stale' },
      });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('AUTH_TOO_OLD');

      const { login, callback, cookie } = await signIn(`fresh=1&returnTo=/requests/${id}`);
      const asked = new URL(login.headers.get('location')!).searchParams;
      expect(asked.get('prompt')).toBe('login');
      expect(asked.get('max_age')).toBe('0');
      expect(callback.headers.get('location')).toBe(`/requests/${id}`);
      const ok = await s.http('POST', `/v1/requests/${id}/decisions`, {
        cookie,
        headers: CONSOLE_CALL,
        body: { decision: 'approve', reason: 'fresh' },
      });
      expect(ok.status, ok.text).toBe(201);
    });
  });

  describe('when the options are asked for', () => {
    it('lists the human issuers only', async () => {
      const r = await s.http('GET', '/auth/options');
      expect(r.body.issuers).toEqual([{ name: 'corp-sso', issuer: corp.issuer }]);
    });
  });
});

describe('signing in behind a TLS public origin', () => {
  let tls: ConsoleServer;
  beforeAll(async () => {
    tls = await ConsoleServer.start({
      config: {
        oidc: federationConfig(issuers),
        console: { publicOrigin: 'https://console.example.test' },
      },
    });
  });
  afterAll(async () => {
    await tls?.stop();
  });

  it('refuses a call whose Origin is not the public origin, though same-origin with itself', async () => {
    const call = (origin: string) =>
      tls.http('POST', '/auth/dev/sign-in', {
        headers: { 'sec-fetch-site': 'same-origin', origin, 'x-countersign-console': '1' },
        body: { principal: 'admin' },
      });
    const rebound = await call('https://rebind.attacker.example');
    expect([rebound.status, rebound.body.code]).toEqual([403, 'CSRF_REFUSED']);
    expect((await call('https://console.example.test')).status).toBe(204);
  });

  it('binds the login to the browser with a __Host- cookie a sibling subdomain cannot plant', async () => {
    const login = await tls.http('GET', '/auth/login?issuer=corp-sso&returnTo=/inbox');
    expect(login.status, login.text).toBe(302);
    const set = login.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/^__Host-cs_login=/);
    expect(set).toContain('Path=/;');
    expect(set).toContain('Secure');
    expect(set).not.toMatch(/Domain=/i);
  });
});
