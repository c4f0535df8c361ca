import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ROLES, allows, grantFor } from '../../src/http/authz.js';
import { newApiToken } from '../../src/identity/api-tokens.js';
import { ROLES, type Role } from '../../src/identity/roles.js';
import { TestServer } from '../helpers/server.js';

/** One API-token principal per role, holding that role alone. */
const tokens = Object.fromEntries(ROLES.map((r) => [r, newApiToken()])) as Record<
  Role,
  ReturnType<typeof newApiToken>
>;

let s: TestServer;
/** Every route of the running server: its OpenAPI paths plus the hidden ones in the table. */
let routes: Array<{ method: string; url: string }>;
beforeAll(async () => {
  s = await TestServer.start({
    config: {
      principals: ROLES.map((r) => ({
        id: `only-${r}`,
        roles: [r],
        groups: ['sre'],
        tokenSha256: tokens[r].sha256,
      })),
    },
  });
  const doc = (await s.http('GET', '/openapi.json')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
  );
  const keys = new Set([...documented, ...Object.keys(ROUTE_ROLES)]);
  routes = [...keys].map((k) => {
    const [method, url] = k.split(' ') as [string, string];
    return { method, url };
  });
});
afterAll(async () => {
  await s.stop();
});

/**
 * Public routes of the console's sign-in that refuse by themselves: the session answers
 * 401 to anyone without a session cookie (a bearer token is not a console session).
 */
const SELF_REFUSING: Readonly<Record<string, string>> = {
  'GET /auth/session': 'UNAUTHENTICATED',
};
const refusedByItself = (method: string, url: string, r: { body?: { code?: string } }) =>
  SELF_REFUSING[`${method} ${url}`] !== undefined &&
  r.body?.code === SELF_REFUSING[`${method} ${url}`];

/** Calls a route with dummy path parameters and a body no schema accepts. */
const call = (method: string, url: string, token?: string) =>
  s.http(method, url.replace(/:\w+/g, 'authz-probe'), {
    ...(token === undefined ? {} : { bearer: token }),
    ...(method === 'GET' ? {} : { body: { authzProbe: true } }),
  });

describe('the authorization matrix, against a running server', () => {
  it('has a row for every route the server documents, and a route for every row', async () => {
    for (const { method, url } of routes) {
      expect(grantFor(method, url), `${method} ${url} has no row`).toBeDefined();
      const r = await call(method, url, tokens.admin.token);
      expect(r.body?.detail, `${method} ${url} is not served`).not.toBe('no such route');
    }
    expect(routes.length).toBeGreaterThanOrEqual(Object.keys(ROUTE_ROLES).length);
  });

  for (const role of ROLES) {
    it(`lets ${role} call exactly the routes its row grants`, async () => {
      const wrong: string[] = [];
      for (const { method, url } of routes) {
        const r = await call(method, url, tokens[role].token);
        const forbidden = r.status === 403 && r.body?.code === 'FORBIDDEN';
        const ok = allows(method, url, role)
          ? (r.status !== 401 && !forbidden) || refusedByItself(method, url, r)
          : forbidden;
        if (!ok) wrong.push(`${method} ${url}: ${r.status} ${r.body?.code ?? ''}`);
      }
      expect(wrong).toEqual([]);
    });
  }

  it('answers 401 UNAUTHENTICATED to a caller without credentials, except on public routes', async () => {
    const wrong: string[] = [];
    for (const { method, url } of routes) {
      const r = await call(method, url);
      const ok =
        grantFor(method, url) === 'public'
          ? (r.status !== 401 && r.status !== 403) ||
            refusedByItself(method, url, r) ||
            // The console's sign-in POSTs refuse what does not come from the console.
            r.body?.code === 'CSRF_REFUSED'
          : r.status === 401 && r.body?.code === 'UNAUTHENTICATED';
      if (!ok) wrong.push(`${method} ${url}: ${r.status}`);
    }
    expect(wrong).toEqual([]);
  });
});
