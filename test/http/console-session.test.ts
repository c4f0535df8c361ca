import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CALL, ConsoleServer, cookieFrom } from '../helpers/console.js';
import { createRequest } from '../helpers/chain.js';

let s: ConsoleServer;

/** One call with a `Host` of our choosing, which fetch would not send. */
function hostCall(
  url: string,
  host: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: string; cookie: string | undefined }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((ok, fail) => {
    const req = request(
      new URL(path, url),
      {
        method,
        setHost: false,
        headers: {
          host,
          ...headers,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          ok({
            status: res.statusCode ?? 0,
            body: text,
            cookie: res.headers['set-cookie']?.[0]?.split(';')[0],
          }),
        );
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}
beforeAll(async () => {
  s = await ConsoleServer.start();
});
afterAll(async () => {
  await s?.stop();
});

describe('the console session', () => {
  describe('when the options are asked for in dev mode', () => {
    it('lists the dev principals and no issuer', async () => {
      const r = await s.http('GET', '/auth/options');
      expect(r.status).toBe(200);
      expect(r.body.dev).toBe(true);
      expect(r.body.devPrincipals).toContainEqual({ id: 'bob', roles: ['approver', 'requester'] });
      expect(r.body.issuers).toEqual([]);
    });
  });

  describe('when a dev principal signs in', () => {
    it('sets an HttpOnly, SameSite=Strict cookie on the whole path, not Secure over http', async () => {
      const r = await s.http('POST', '/auth/dev/sign-in', {
        headers: CONSOLE_CALL,
        body: { principal: 'bob' },
      });
      expect(r.status).toBe(204);
      const set = r.headers.getSetCookie().find((c) => c.startsWith('cs_session='))!;
      expect(set).toMatch(/HttpOnly/i);
      expect(set).toMatch(/SameSite=Strict/i);
      expect(set).toMatch(/Path=\//);
      expect(set).not.toMatch(/Secure/i);
      expect(cookieFrom(r)!.length).toBeGreaterThan('cs_session='.length + 40);
    });

    it('answers the session with the principal, its roles and when it ends', async () => {
      const cookie = await s.devSignIn('bob');
      const r = await s.http('GET', '/auth/session', { cookie });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        principal: {
          id: 'bob',
          roles: ['approver', 'requester'],
          groups: ['sre'],
          via: 'api_token',
        },
        mode: 'dev',
      });
      const ends = Date.parse(r.body.expiresAt) - Date.now();
      expect(ends).toBeGreaterThan(29 * 60_000);
      expect(ends).toBeLessThanOrEqual(30 * 60_000);
    });

    it('refuses a sign-in from another site', async () => {
      const r = await s.http('POST', '/auth/dev/sign-in', {
        headers: { 'sec-fetch-site': 'cross-site', 'x-countersign-console': '1' },
        body: { principal: 'admin' },
      });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('CSRF_REFUSED');
      expect(cookieFrom(r)).toBeUndefined();
    });

    it('refuses a page whose DNS name was rebound to this loopback server', async () => {
      // What a rebound page's browser sends: same-origin with itself, under its own name.
      const port = new URL(s.url).port;
      const as = (host: string) =>
        hostCall(
          s.url,
          host,
          'POST',
          '/auth/dev/sign-in',
          {
            'sec-fetch-site': 'same-origin',
            origin: `http://${host}`,
            'x-countersign-console': '1',
          },
          { principal: 'admin' },
        );
      const rebound = await as(`rebind.attacker.example:${port}`);
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.body).code).toBe('CSRF_REFUSED');
      expect(rebound.cookie).toBeUndefined();
      const own = await as(`localhost:${port}`);
      expect(own.status).toBe(204);
      // A session begun on the loopback name does not ride under another one either.
      const read = await hostCall(s.url, `rebind.attacker.example:${port}`, 'GET', '/v1/requests', {
        cookie: own.cookie!,
      });
      expect(read.status).toBe(403);
    });

    it('refuses a rebound page when dev mode listens on every address, as in a container', async () => {
      const open = await ConsoleServer.start({ host: '0.0.0.0' });
      try {
        const port = new URL(open.url).port;
        const signIn = (host: string) =>
          hostCall(
            open.url,
            host,
            'POST',
            '/auth/dev/sign-in',
            { ...CONSOLE_CALL, origin: `http://${host}` },
            { principal: 'admin' },
          );
        const rebound = await signIn(`rebind.attacker.example:${port}`);
        expect([rebound.status, JSON.parse(rebound.body).code]).toEqual([403, 'CSRF_REFUSED']);
        expect(rebound.cookie).toBeUndefined();
        // A name that no DNS answer can move: the published loopback port, or the host's address.
        expect((await signIn(`127.0.0.1:${port}`)).status).toBe(204);
        expect((await signIn(`10.1.2.3:${port}`)).status).toBe(204);
        expect((await signIn(`[fd00::1]:${port}`)).status).toBe(204);
      } finally {
        await open.stop();
      }
    });

    it('refuses a principal that is not a dev principal', async () => {
      const r = await s.http('POST', '/auth/dev/sign-in', {
        headers: CONSOLE_CALL,
        body: { principal: 'mallory' },
      });
      expect(r.status).toBe(400);
    });
  });

  describe('when the cookie is used on the API', () => {
    it('reads as the session principal', async () => {
      const cookie = await s.devSignIn('audra');
      const r = await s.http('GET', '/v1/requests', { cookie });
      expect(r.status).toBe(200);
    });

    it('keeps the role matrix: an auditor cannot create a request', async () => {
      const cookie = await s.devSignIn('audra');
      const r = await s.http('POST', '/v1/requests', { cookie, headers: CONSOLE_CALL, body: {} });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('FORBIDDEN');
    });

    it('refuses a cross-origin POST, and one without the console header', async () => {
      const cookie = await s.devSignIn('alice');
      const id = await createRequest(s);
      const bob = await s.devSignIn('bob');
      for (const headers of [
        { 'sec-fetch-site': 'cross-site', 'x-countersign-console': '1' },
        { 'sec-fetch-site': 'same-site', 'x-countersign-console': '1' },
        { 'sec-fetch-site': 'same-origin' },
        { origin: 'https://evil.example', 'x-countersign-console': '1' },
        { 'x-countersign-console': '1' },
      ]) {
        const r = await s.http('POST', `/v1/requests/${id}/decisions`, {
          cookie: bob,
          headers,
          body: { decision: 'approve', reason: 'ok' },
        });
        expect(r.status, JSON.stringify(headers)).toBe(403);
        expect(r.body.code).toBe('CSRF_REFUSED');
      }
      const after = await s.http('GET', `/v1/requests/${id}`, { cookie });
      expect(after.body.decisions).toEqual([]);
    });

    it('accepts the same call by Origin when the browser sends no fetch metadata', async () => {
      const id = await createRequest(s);
      const bob = await s.devSignIn('bob');
      const r = await s.http('POST', `/v1/requests/${id}/decisions`, {
        cookie: bob,
        headers: { origin: s.url, 'x-countersign-console': '1' },
        body: { decision: 'approve', reason: 'looked at it' },
      });
      expect(r.status, r.text).toBe(201);
      expect(r.body.decision.approver).toBe('bob');
    });

    it('lets a bearer token win over the cookie', async () => {
      const cookie = await s.devSignIn('audra');
      const r = await s.http('POST', '/v1/requests/preview', {
        cookie,
        as: 'alice',
        body: { nothing: true },
      });
      // Alice may preview (a schema refusal, not a role refusal or a CSRF refusal).
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('when the person signs out', () => {
    it('ends the session on the server, so the old cookie proves nothing', async () => {
      const cookie = await s.devSignIn('carol');
      const out = await s.http('POST', '/auth/sign-out', { cookie, headers: CONSOLE_CALL });
      expect(out.status).toBe(204);
      expect(out.headers.getSetCookie().join()).toMatch(/cs_session=;/);
      const r = await s.http('GET', '/auth/session', { cookie });
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('UNAUTHENTICATED');
      expect((await s.http('GET', '/v1/requests', { cookie })).status).toBe(401);
    });
  });
});

describe('the session timeouts', () => {
  const advance = (by: string) =>
    s.http('POST', '/v1/dev/clock', { as: 'admin', body: { advance: by } });

  it('ends a session left idle for sessionIdle (30m)', async () => {
    const cookie = await s.devSignIn('bob');
    await advance('29m');
    expect((await s.http('GET', '/auth/session', { cookie })).status).toBe(200);
    await advance('29m');
    // Used 29 minutes ago: still alive, and used again now.
    expect((await s.http('GET', '/v1/requests', { cookie })).status).toBe(200);
    await advance('31m');
    expect((await s.http('GET', '/auth/session', { cookie })).status).toBe(401);
  });

  it('ends a busy session at sessionMax (12h) all the same', async () => {
    const cookie = await s.devSignIn('bob');
    // Used every 29 minutes from 0 to 11h36m: never idle for 30.
    for (let i = 0; i <= 24; i++) {
      if (i > 0) await advance('29m');
      const r = await s.http('GET', '/auth/session', { cookie });
      expect(r.status, `after ${i * 29}m`).toBe(200);
    }
    // 25 minutes later it is 12h01m old, though only 25 minutes idle.
    await advance('25m');
    expect((await s.http('GET', '/auth/session', { cookie })).status).toBe(401);
  });
});
