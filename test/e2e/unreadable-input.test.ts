import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ROLES, type Grant } from '../../src/http/authz.js';
import { issueWarrant } from '../helpers/chain.js';
import { findingsOf, reconcileNow } from '../helpers/reconcile.js';
import { rowCounts } from '../helpers/db.js';
import {
  documentedRoutes,
  PRINCIPAL_OF,
  routeKey,
  sample,
  setAt,
  stringPaths,
  type Route,
} from '../helpers/openapi.js';
import { sendRaw, type RawAnswer } from '../helpers/raw-http.js';
import { TestServer, type DevPrincipal } from '../helpers/server.js';

const LONE = 'fuzz\ud800';
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

let s: TestServer;
let routes: Route[];
beforeAll(async () => {
  s = await TestServer.start({ config: { reconcileInterval: '24h' } });
  routes = await documentedRoutes(s);
});
afterAll(async () => {
  await s.stop();
});

/** Someone the route's row lets in, so a refusal is about the input and not the caller. */
function callerOf(r: Route): DevPrincipal | null {
  const grant = (ROUTE_ROLES as Record<string, Grant>)[routeKey(r)];
  if (grant === undefined) throw new Error(`${routeKey(r)} has no row`);
  return grant === 'public' ? null : PRINCIPAL_OF[grant[0]!];
}

/** Sends `body` (a JSON text or bytes) to `r` as a permitted caller. */
function send(
  r: Route,
  body: string | Buffer | undefined,
  o: { path?: string; headers?: Record<string, string> } = {},
): Promise<RawAnswer> {
  const as = callerOf(r);
  const path = o.path ?? r.path.replace(/\{\w+\}/g, 'x');
  return sendRaw(
    s.url,
    r.method,
    path,
    {
      ...(as ? { authorization: `Bearer ${s.tokens[as]}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...o.headers,
    },
    body,
  );
}

const problemOf = (a: RawAnswer) => JSON.parse(a.text) as { code: string; detail: string };
const isRedemption = (r: Route) => r.method === 'POST' && r.path === '/v1/redemptions';
/** Every route that reads a body: POST and PUT alike. */
const readsBody = (r: Route) => r.method !== 'GET';

/** Only a refused redemption writes: one `redemptions` row and its `redemption.denied` event. */
function expectWrites(r: Route, before: Record<string, number>, what: string): void {
  const extra = isRedemption(r) ? 1 : 0;
  expect(rowCounts(s.dataDir), what).toEqual({
    ...before,
    redemptions: before.redemptions! + extra,
    events: before.events! + extra,
  });
}

describe('input a canonical digest cannot cover', () => {
  describe.each([
    ['a lone surrogate', LONE, 'LONE_SURROGATE'],
    ['U+0000', 'fuzz\u0000', 'NUL_CHARACTER'],
  ])('when %s is escaped in any string or key of a request body', (_, odd, code) => {
    it(`answers 400 ${code} on every route that reads a body, writing only a redemption denial`, async () => {
      const posts = routes.filter(readsBody);
      expect(posts.length).toBeGreaterThan(12);
      expect(posts.map(routeKey)).toContain('PUT /v1/nhis/:id/owner');
      const wrong: string[] = [];
      let cases = 0;
      for (const r of posts) {
        const template = sample(r.bodySchema ?? { type: 'object', properties: {} }) ?? {};
        const bodies = [
          ...stringPaths(template).map((p) => [p.join('.'), setAt(template, p, odd)] as const),
          ['a key', { ...template, [odd]: 1 }] as const,
        ];
        for (const [where, body] of bodies) {
          cases += 1;
          const before = rowCounts(s.dataDir);
          // JSON.stringify escapes the lone surrogate (`\ud800`): the bytes are UTF-8.
          const a = await send(r, JSON.stringify(body));
          const what = `${routeKey(r)} with ${where}: ${a.status} ${a.text}`;
          if (a.status !== 400 || problemOf(a).code !== code) wrong.push(what);
          else expect(problemOf(a).detail.isWellFormed(), what).toBe(true);
          expectWrites(r, before, what);
        }
      }
      expect(wrong).toEqual([]);
      expect(cases).toBeGreaterThan(40);
    });
  });

  describe('when a lone surrogate is percent-encoded into a path parameter', () => {
    it('answers 400 on every route with one, before anything is read', async () => {
      const withParams = routes.filter((r) => r.params.length > 0);
      expect(withParams.length).toBeGreaterThan(8);
      for (const r of withParams) {
        for (const name of r.params) {
          const path = r.path.replace(`{${name}}`, '%ED%A0%80').replace(/\{\w+\}/g, 'x');
          const before = rowCounts(s.dataDir);
          const body = readsBody(r) ? JSON.stringify(sample(r.bodySchema ?? undefined)) : undefined;
          const a = await send(r, body, { path });
          expect(a.status, `${routeKey(r)} ${path}: ${a.text}`).toBe(400);
          expect(problemOf(a).code).toBe('VALIDATION_FAILED');
          expect(rowCounts(s.dataDir)).toEqual(before);
        }
      }
    });
  });

  describe('when U+0000 is percent-encoded into a path or query parameter', () => {
    it('answers 400 NUL_CHARACTER on every route with one, writing nothing', async () => {
      const cases = [
        ...routes.flatMap((r) =>
          r.params.map((name) => ({
            r,
            path: r.path.replace(`{${name}}`, 'ab%00c').replace(/\{\w+\}/g, 'x'),
          })),
        ),
        ...routes.flatMap((r) =>
          r.query.map((name) => ({
            r,
            path: `${r.path.replace(/\{\w+\}/g, 'x')}?${name}=ab%00c`,
          })),
        ),
      ];
      expect(cases.length).toBeGreaterThan(12);
      for (const { r, path } of cases) {
        const before = rowCounts(s.dataDir);
        const body = readsBody(r) ? JSON.stringify(sample(r.bodySchema ?? undefined)) : undefined;
        const a = await send(r, body, { path });
        expect([a.status, problemOf(a).code], `${routeKey(r)} ${path}: ${a.text}`).toEqual([
          400,
          'NUL_CHARACTER',
        ]);
        expect(rowCounts(s.dataDir)).toEqual(before);
      }
    });
  });

  describe('when a lone surrogate is percent-encoded into a query parameter', () => {
    it('never reaches a route as a lone surrogate: the escape stays text, and typed parameters refuse it', async () => {
      const withQuery = routes.filter((r) => r.query.length > 0);
      expect(withQuery.length).toBeGreaterThan(4);
      for (const r of withQuery) {
        for (const name of r.query) {
          const path = `${r.path.replace(/\{\w+\}/g, 'x')}?${name}=%ED%A0%80`;
          const a = await send(r, undefined, { path });
          expect([200, 400, 404], `${routeKey(r)} ${path}: ${a.text}`).toContain(a.status);
          if (a.status >= 400) expect(problemOf(a).detail.isWellFormed()).toBe(true);
        }
      }
    });
  });

  describe('when a body is not UTF-8', () => {
    it.each([
      ['a lone surrogate in UTF-8 form (ED A0 80)', Buffer.from([0xed, 0xa0, 0x80])],
      ['a stray continuation byte', Buffer.from([0x80])],
      ['an overlong slash (C0 AF)', Buffer.from([0xc0, 0xaf])],
      ['a truncated sequence', Buffer.from([0xe2, 0x82])],
      ['Latin-1', Buffer.from('é', 'latin1')],
    ])('refuses %s with 400 INVALID_UTF8 on every route that reads a body', async (_n, bad) => {
      const body = Buffer.concat([Buffer.from('{"reason":"'), bad, Buffer.from('"}')]);
      for (const r of routes.filter(readsBody)) {
        const before = rowCounts(s.dataDir);
        const a = await send(r, body);
        expect(a.status, `${routeKey(r)}: ${a.text}`).toBe(400);
        expect(problemOf(a).code).toBe('INVALID_UTF8');
        expectWrites(r, before, routeKey(r));
      }
    });
  });

  describe('when a body comes with a content coding', () => {
    it.each(['gzip', 'br', 'deflate', 'x-anything', 'identity, gzip'])(
      'refuses Content-Encoding: %s with 415 UNSUPPORTED_CONTENT_ENCODING',
      async (coding) => {
        for (const r of routes.filter(readsBody)) {
          const before = rowCounts(s.dataDir);
          const a = await send(r, JSON.stringify(sample(r.bodySchema ?? undefined)), {
            headers: { 'content-encoding': coding },
          });
          expect(a.status, `${routeKey(r)}: ${a.text}`).toBe(415);
          expect(problemOf(a).code).toBe('UNSUPPORTED_CONTENT_ENCODING');
          expect(a.headers['accept-encoding']).toBe('identity');
          expectWrites(r, before, routeKey(r));
        }
      },
    );

    it('accepts Content-Encoding: identity', async () => {
      const r = routes.find(isRedemption)!;
      const a = await send(
        r,
        JSON.stringify({
          warrant: 'x',
          action: { resource: 'a', permission: 'b', environment: 'c' },
        }),
        {
          headers: { 'content-encoding': 'identity' },
        },
      );
      expect(a.status).toBe(403);
      expect(problemOf(a).code).toBe('SIGNATURE_INVALID');
    });
  });
});

describe('a redemption refused before it could be checked', () => {
  let issued: Awaited<ReturnType<typeof issueWarrant>>;
  let bodies: string[];
  beforeAll(async () => {
    issued = await issueWarrant(s, { maxUses: 5 });
    bodies = ['db/orders\ud800', 'db/\udc00orders', 'x\ud800'].map((resource) =>
      JSON.stringify({
        warrant: issued.token,
        action: { resource, permission: 'read', environment: 'staging' },
      }),
    );
  });

  const redeem = (body: string, headers: Record<string, string>) =>
    sendRaw(
      s.url,
      'POST',
      '/v1/redemptions',
      { 'content-type': 'application/json', ...headers },
      body,
    );

  describe('when the caller is not an authenticated executor, or the body is over the limit', () => {
    it('records nothing', async () => {
      const before = rowCounts(s.dataDir);
      expect((await redeem(bodies[0]!, {})).status).toBe(401);
      expect((await redeem(bodies[0]!, { authorization: `Bearer ${s.tokens.alice}` })).status).toBe(
        403,
      );
      const huge = JSON.stringify({ warrant: issued.token, pad: 'x'.repeat(70_000) });
      const big = await redeem(huge, { authorization: `Bearer ${s.tokens['deploy-eu']}` });
      expect(big.status).toBe(413);
      expect(rowCounts(s.dataDir)).toEqual(before);
    });
  });

  describe('when an executor sends three unreadable redemptions of one warrant', () => {
    let leaves: Array<{
      type: string;
      links: Record<string, string>;
      data: Record<string, unknown>;
    }>;
    let texts: string[];
    beforeAll(async () => {
      for (const body of bodies) {
        const a = await redeem(body, { authorization: `Bearer ${s.tokens['deploy-eu']}` });
        expect(a.status, a.text).toBe(400);
        expect(problemOf(a).code).toBe('LONE_SURROGATE');
      }
      await reconcileNow(s);
      // Reading findings integrates the log, so the checkpoint covers every denial.
      await findingsOf(s, '');
      const note = (await s.http('GET', '/v1/log/checkpoint')).text;
      const size = Number(note.split('\n')[1]);
      const entries: Array<{ leaf: string }> = [];
      for (let start = 0; start < size; start += 1000) {
        const end = Math.min(size, start + 1000);
        const page = await s.http('GET', `/v1/log/entries?start=${start}&end=${end}`, {
          as: 'audra',
        });
        expect(page.status, page.text).toBe(200);
        entries.push(...(page.body.entries as Array<{ leaf: string }>));
      }
      texts = entries.map((e) => e.leaf).filter((l) => l.includes(issued.warrantId));
      leaves = texts
        .map((l) => JSON.parse(l))
        .filter((e) => e.type === 'redemption.denied' && e.links.warrant === issued.warrantId);
    });

    it('logs each as a REDEMPTION_MALFORMED denial linked to the warrant', () => {
      expect(leaves).toHaveLength(3);
      for (const [i, e] of leaves.entries()) {
        expect(e.links).toEqual({
          request: issued.requestId,
          warrant: issued.warrantId,
          nhi: expect.any(String),
        });
        expect(e.data).toEqual({
          code: 'REDEMPTION_MALFORMED',
          problem: 'LONE_SURROGATE',
          bodySha256: sha256(Buffer.from(bodies[i]!, 'utf8')),
          tokenSha256: sha256(issued.token),
          executor_identity: { via: 'api_token' },
          claimedWarrant: issued.warrantId,
        });
      }
    });

    it('keeps neither the unreadable text nor the warrant in the log', () => {
      expect(texts.length).toBeGreaterThan(leaves.length);
      for (const text of texts) {
        expect(text).not.toContain(issued.token);
        expect(text.toLowerCase()).not.toContain('\\ud800');
        expect(text.toLowerCase()).not.toContain('\\udc00');
        expect(text.isWellFormed()).toBe(true);
      }
    });

    it('counts them towards REDEMPTION_ABUSE', async () => {
      const r = await s.http('GET', '/v1/findings', { as: 'audra' });
      const abuse = (
        r.body.findings as Array<{ kind: string; requestId: string; detail: string }>
      ).filter((f) => f.kind === 'REDEMPTION_ABUSE' && f.requestId === issued.requestId);
      expect(abuse).toHaveLength(1);
      expect(abuse[0]!.detail).toContain('REDEMPTION_MALFORMED');
    });

    it('leaves every use of the warrant unspent', async () => {
      const w = await s.http('GET', `/v1/requests/${issued.requestId}/warrant`, { as: 'admin' });
      expect(w.body).toMatchObject({ uses: 0, maxUses: 5 });
    });
  });
});
