import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  ROUTE_ROLES,
  allows,
  applyRouteRoles,
  grantFor,
  type RouteKey,
} from '../../src/http/authz.js';
import { ROLES, type Role } from '../../src/identity/roles.js';

const rows = Object.entries(ROUTE_ROLES) as Array<[RouteKey, (typeof ROUTE_ROLES)[RouteKey]]>;
const split = (key: string) => key.split(' ') as [string, string];

describe('ROUTE_ROLES', () => {
  describe('when read as a whole', () => {
    it('lets an auditor read every route and change nothing', () => {
      for (const [key, grant] of rows) {
        const [method, url] = split(key);
        if (grant === 'public') continue;
        expect(allows(method, url, 'auditor'), key).toBe(method === 'GET');
      }
    });

    it('keeps decisions, key administration and the audit log from workload roles', () => {
      for (const key of [
        'POST /v1/requests/:id/decisions',
        'POST /v1/keys/rotation',
        'POST /v1/keys/:kid/revocation',
        'GET /v1/keys',
        'GET /v1/log/entries',
      ] as const) {
        const [method, url] = split(key);
        expect(allows(method, url, 'executor'), key).toBe(false);
        expect(allows(method, url, 'observer'), key).toBe(false);
      }
    });

    it('makes only reads, proofs and the console sign-in public', () => {
      // The two console POSTs refuse cross-site calls themselves (CSRF_REFUSED).
      const signIn = ['POST /auth/dev/sign-in', 'POST /auth/sign-out'];
      for (const [key, grant] of rows) {
        if (grant === 'public' && !signIn.includes(key)) expect(split(key)[0], key).toBe('GET');
      }
    });
  });

  describe('when asked about a route', () => {
    it('answers HEAD as GET and knows no unlisted route', () => {
      expect(grantFor('HEAD', '/healthz')).toBe('public');
      expect(grantFor('DELETE', '/v1/requests/:id')).toBeUndefined();
      expect(allows('DELETE', '/v1/requests/:id', 'admin')).toBe(false);
    });
  });
});

describe('applyRouteRoles', () => {
  const appWith = (register: (app: ReturnType<typeof Fastify>) => void) => {
    const app = Fastify();
    applyRouteRoles(app);
    register(app);
    return app;
  };

  describe('when a route has no row', () => {
    it('stops the app from starting', () => {
      expect(() => appWith((a) => a.get('/v1/secret-admin-thing', () => 'x'))).toThrow(
        /no row in ROUTE_ROLES/,
      );
    });
  });

  describe('when a route declares roles of its own', () => {
    it('accepts them when they equal the row, in any order', async () => {
      const app = appWith((a) =>
        a.get('/v1/log/entries', { config: { roles: ['admin', 'auditor'] } }, () => 'x'),
      );
      await expect(app.ready()).resolves.toBeDefined();
      await app.close();
    });

    it('refuses them when they differ from the row', () => {
      expect(() =>
        appWith((a) => a.get('/v1/log/entries', { config: { roles: ['executor'] } }, () => 'x')),
      ).toThrow(/differ from its ROUTE_ROLES row/);
    });
  });
});

describe('the README role matrix', () => {
  it('is ROUTE_ROLES, row for row', () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const section = readme.split('<!-- role-matrix:start')[1]!.split('<!-- role-matrix:end')[0]!;
    const [header, , ...lines] = section
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    expect(header).toEqual(['method and path', 'public', ...ROLES]);
    const documented = Object.fromEntries(
      lines.map(([route, pub, ...marks]) => [
        route!.replaceAll('`', ''),
        pub === '✓' ? 'public' : ROLES.filter((_r, i) => marks[i] === '✓'),
      ]),
    );
    const table = Object.fromEntries(
      rows.map(([k, g]) => [
        k,
        g === 'public' ? g : ROLES.filter((r) => (g as readonly Role[]).includes(r)),
      ]),
    );
    expect(documented).toEqual(table);
  });
});
