import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleServer } from '../helpers/console.js';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

describe('the console files', () => {
  describe('when the console is built', () => {
    let s: ConsoleServer;
    beforeAll(async () => {
      s = await ConsoleServer.start();
    });
    afterAll(async () => {
      await s?.stop();
    });

    it('answers index.html, never cached, for every client-side route', async () => {
      for (const path of [
        '/',
        '/inbox',
        '/sign-in',
        '/requests/new',
        '/requests/sha256:abc',
        '/requests/sha256:abc/timeline',
        '/findings',
        '/exceptions',
        '/log',
      ]) {
        const r = await s.http('GET', path);
        expect(r.status, path).toBe(200);
        expect(r.headers.get('content-type')).toMatch(/^text\/html/);
        expect(r.headers.get('cache-control')).toBe('no-cache');
        expect(r.text).toContain('<div id="root">');
      }
    });

    it('serves hashed assets for a year, immutable', async () => {
      const r = await s.http('GET', '/assets/app-1a2b3c.js');
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toMatch(/max-age=31536000.*immutable/);
    });

    it('answers a missing asset with a 404 problem that names it a console file', async () => {
      const r = await s.http('GET', '/assets/app-from-an-old-build.js');
      expect(r.status).toBe(404);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({ code: 'NOT_FOUND', detail: 'no such console file' });
      expect(r.headers.get('content-security-policy')).toBe(CSP);
    });

    it('sends the CSP and frame headers on pages, API answers and problems alike', async () => {
      for (const path of ['/', '/v1/log/checkpoint', '/v1/requests', '/no/such/page']) {
        const r = await s.http('GET', path);
        expect(r.headers.get('content-security-policy'), path).toBe(CSP);
        expect(r.headers.get('x-frame-options')).toBe('DENY');
        expect(r.headers.get('x-content-type-options')).toBe('nosniff');
        expect(r.headers.get('referrer-policy')).toBe('no-referrer');
        expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      }
    });

    it('keeps a 404 problem for unknown API paths and pages', async () => {
      for (const path of ['/v1/nothing', '/auth/nothing', '/requests', '/inbox/deeper']) {
        const r = await s.http('GET', path);
        expect(r.status, path).toBe(404);
        expect(r.body.code).toBe('NOT_FOUND');
      }
    });
  });

  describe('when the console is not built', () => {
    let s: ConsoleServer;
    beforeAll(async () => {
      s = await ConsoleServer.start({ built: false });
    });
    afterAll(async () => {
      await s?.stop();
    });

    it('still serves the API, and the pages answer CONSOLE_NOT_BUILT', async () => {
      expect((await s.http('GET', '/healthz')).status).toBe(200);
      const r = await s.http('GET', '/inbox');
      expect(r.status).toBe(404);
      expect(r.body.code).toBe('CONSOLE_NOT_BUILT');
      expect(r.body.detail).toMatch(/npm run build/);
    });
  });
});
