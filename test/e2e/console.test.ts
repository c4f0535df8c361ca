import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest } from '../helpers/chain.js';
import { CONSOLE_CALL } from '../helpers/console.js';
import { TestServer, type HttpResult } from '../helpers/server.js';

let s: TestServer;
let consoleDir: string;
beforeAll(async () => {
  // A stand-in for the Vite build, so this test does not depend on it.
  consoleDir = mkdtempSync(join(tmpdir(), 'countersign-console-e2e-'));
  mkdirSync(join(consoleDir, 'assets'));
  writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><div id="root"></div>');
  s = await TestServer.start({ config: { console: { staticDir: consoleDir } } });
});
afterAll(async () => {
  await s?.stop();
  rmSync(consoleDir, { recursive: true, force: true });
});

const sessionCookie = (r: HttpResult) =>
  r.headers
    .getSetCookie()
    .find((c) => c.startsWith('cs_session='))
    ?.split(';')[0];

describe('the console against a running server', () => {
  describe('when an approver signs in on the dev page and approves from the inbox', () => {
    let id: string;
    let cookie: string;
    beforeAll(async () => {
      id = await createRequest(s, { env: 'staging' });
      const r = await s.http('POST', '/auth/dev/sign-in', {
        headers: CONSOLE_CALL,
        body: { principal: 'bob' },
      });
      expect(r.status, r.text).toBe(204);
      cookie = sessionCookie(r)!;
      expect(cookie).toBeDefined();
    });

    it('lists the request in the inbox by the cookie alone', async () => {
      const r = await s.http('GET', '/v1/requests?awaiting=me&order=oldest&limit=200', {
        headers: { cookie },
      });
      expect(r.status).toBe(200);
      expect(r.body.requests.map((q: { id: string }) => q.id)).toContain(id);
    });

    it('refuses the approval from another site, recording nothing', async () => {
      const r = await s.http('POST', `/v1/requests/${id}/decisions`, {
        headers: { cookie, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
        body: { decision: 'approve', reason: 'forged' },
      });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('CSRF_REFUSED');
      const after = await s.http('GET', `/v1/requests/${id}`, { as: 'audra' });
      expect(after.body.decisions).toEqual([]);
    });

    it('approves from the console, and the warrant is issued', async () => {
      const r = await s.http('POST', `/v1/requests/${id}/decisions`, {
        headers: { cookie, ...CONSOLE_CALL },
        body: { decision: 'approve', reason: 'reviewed in the console' },
      });
      expect(r.status, r.text).toBe(201);
      expect(r.body).toMatchObject({
        state: 'approved',
        decision: { approver: 'bob', approverIdentity: { via: 'api_token' } },
      });
      const inbox = await s.http('GET', '/v1/requests?awaiting=me&limit=200', {
        headers: { cookie },
      });
      expect(inbox.body.requests.map((q: { id: string }) => q.id)).not.toContain(id);
    });
  });

  describe('when a sign-in route answers', () => {
    it('tells no cache to keep the session of a signed-in principal', async () => {
      const signIn = await s.http('POST', '/auth/dev/sign-in', {
        headers: CONSOLE_CALL,
        body: { principal: 'carol' },
      });
      expect(signIn.status, signIn.text).toBe(204);
      const r = await s.http('GET', '/auth/session', {
        headers: { cookie: sessionCookie(signIn)! },
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body.principal).toMatchObject({ id: 'carol', groups: ['sre'] });
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(signIn.headers.get('cache-control')).toBe('no-store');
    });

    it('tells no cache to keep a signed-out answer either', async () => {
      const session = await s.http('GET', '/auth/session');
      expect([session.status, session.body.code]).toEqual([401, 'UNAUTHENTICATED']);
      expect(session.headers.get('cache-control')).toBe('no-store');
      const options = await s.http('GET', '/auth/options');
      expect([options.status, options.headers.get('cache-control')]).toEqual([200, 'no-store']);
      const callback = await fetch(`${s.url}/auth/callback`, { redirect: 'manual' });
      expect([callback.status, callback.headers.get('cache-control')]).toEqual([302, 'no-store']);
    });
  });

  describe('when any page or API answer is read', () => {
    it('carries the CSP and the frame headers', async () => {
      for (const path of ['/', '/inbox', '/healthz', '/auth/options']) {
        const r = await s.http('GET', path);
        expect(r.status, path).toBe(200);
        expect(r.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
        expect(r.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
        expect(r.headers.get('x-frame-options')).toBe('DENY');
      }
    });
  });
});
