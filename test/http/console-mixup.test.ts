import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleServer, cookieFrom } from '../helpers/console.js';
import { AUDIENCE, startIssuers, type Issuers } from '../helpers/federation.js';
import { MixUpPartner } from '../helpers/mixup-partner.js';
import type { HttpResult } from '../helpers/server.js';

/**
 * The OAuth mix-up (RFC 9700 §4.4) as a reviewer reproduced it: with the company SSO and a
 * partner IdP both trusted for sign-in, the partner forwards a victim's sign-in to the
 * company SSO, which signs them in silently; a client that sends the returning code to the
 * issuer it began at hands the partner a company code and its PKCE verifier.
 */
let issuers: Issuers<'corp'>;
let partner: MixUpPartner;
let s: ConsoleServer;
beforeAll(async () => {
  issuers = await startIssuers(['corp']);
  partner = await MixUpPartner.start(issuers.corp);
  const person = { kind: 'human', audience: AUDIENCE, algorithms: ['RS256'] };
  s = await ConsoleServer.start({
    config: {
      oidc: {
        issuers: [
          {
            ...person,
            name: 'corp-sso',
            issuer: issuers.corp.issuer,
            trustedGroups: ['sre'],
            roles: { sre: ['approver'] },
          },
          { ...person, name: 'partner-sso', issuer: partner.issuer, trustedGroups: [] },
        ],
      },
    },
  });
});
afterAll(async () => {
  await s?.stop();
  await partner?.close();
  await issuers?.close();
});
afterEach(() => {
  issuers.corp.redirectUris = null;
  issuers.corp.issInResponse = false;
  partner.redirectUriOverride = null;
  partner.tokenForms.length = 0;
  partner.stolen.length = 0;
});

/** The redirect URI this server asks `issuer` to send its code to. */
async function redirectUriFor(issuer: string): Promise<string> {
  const login = await s.http('GET', `/auth/login?issuer=${issuer}`);
  return new URL(login.headers.get('location')!).searchParams.get('redirect_uri')!;
}

/**
 * The victim's browser: begins a sign-in at `issuer`, follows the issuers' redirects, and
 * comes back with the login cookie; or stops where an issuer answers other than 302.
 */
async function signInAt(
  issuer: string,
): Promise<{ readonly stoppedAt: number } | { readonly callback: HttpResult }> {
  const login = await s.http('GET', `/auth/login?issuer=${issuer}`);
  const cookie = cookieFrom(login, 'cs_login');
  let next = login.headers.get('location')!;
  while (!next.startsWith(`${s.url}/`)) {
    const r = await fetch(next, { redirect: 'manual' });
    if (r.status !== 302) return { stoppedAt: r.status };
    next = r.headers.get('location')!;
  }
  const back = new URL(next);
  return { callback: await s.http('GET', `${back.pathname}${back.search}`, { cookie }) };
}

/** What the attack must never achieve: a company code at the partner, or a session. */
function expectNothingStolen(tokenRequestsAtCorp: number) {
  expect(partner.tokenForms).toEqual([]);
  expect(partner.stolen).toEqual([]);
  expect(issuers.corp.trace.tokenForms.length).toBe(tokenRequestsAtCorp);
}

describe('a partner issuer that forwards a sign-in to the company SSO (mix-up)', () => {
  describe('when the company SSO holds the client to its registered redirect URI', () => {
    it("issues no code to the partner's callback, so the partner's token endpoint sees none", async () => {
      issuers.corp.redirectUris = [await redirectUriFor('corp-sso')];
      const before = issuers.corp.trace.tokenForms.length;
      const result = await signInAt('partner-sso');
      expectNothingStolen(before);
      expect(result).toEqual({ stoppedAt: 400 });
    });

    it('refuses the company code on its own callback, for a sign-in begun at the partner', async () => {
      const corpCallback = await redirectUriFor('corp-sso');
      issuers.corp.redirectUris = [corpCallback];
      partner.redirectUriOverride = corpCallback;
      const before = issuers.corp.trace.tokenForms.length;
      const result = await signInAt('partner-sso');
      expect(result).toHaveProperty('callback');
      const { callback } = result as { callback: HttpResult };
      expect(callback.headers.get('location')).toBe('/sign-in?error=SIGN_IN_FAILED');
      expect(cookieFrom(callback)).toBeUndefined();
      expectNothingStolen(before);
    });
  });

  describe('when the company SSO takes any redirect URI of the origin, but names itself (RFC 9207)', () => {
    it('refuses the company code by its iss, before any token request', async () => {
      issuers.corp.redirectUris = [`${s.url}/*`];
      issuers.corp.issInResponse = true;
      const before = issuers.corp.trace.tokenForms.length;
      const result = await signInAt('partner-sso');
      expect(result).toHaveProperty('callback');
      const { callback } = result as { callback: HttpResult };
      expect(callback.headers.get('location')).toBe('/sign-in?error=SIGN_IN_FAILED');
      expect(cookieFrom(callback)).toBeUndefined();
      expectNothingStolen(before);
    });
  });

  describe('when the person signs in at the company SSO itself', () => {
    it('still signs them in, with both defences on', async () => {
      issuers.corp.redirectUris = [await redirectUriFor('corp-sso')];
      issuers.corp.issInResponse = true;
      const result = await signInAt('corp-sso');
      expect(result).toHaveProperty('callback');
      const { callback } = result as { callback: HttpResult };
      expect(callback.headers.get('location')).toBe('/');
      const session = await s.http('GET', '/auth/session', { cookie: cookieFrom(callback) });
      expect(session.body.principal).toMatchObject({ id: 'corp-sso:dana', via: 'oidc' });
    });
  });
});
