import type { FastifyInstance, RouteOptions } from 'fastify';
import { ROLES, type Role } from '../identity/roles.js';

/** Who may call a route: the roles granted, or `'public'` for no credentials at all. */
export type Grant = readonly Role[] | 'public';

const ALL_READERS = ['requester', 'approver', 'executor', 'auditor', 'admin'] as const;

/**
 * The authorization matrix: every route of the API, keyed `METHOD /path` with the
 * path as registered (`:param` placeholders), and the roles it grants. This table is
 * the only place roles are granted: the app takes each route's roles from it, refuses
 * to start when a route has no row, and denies everything a row does not grant.
 * The README's role table is this table; the end-to-end suite checks every role
 * against every route of the running server.
 *
 * Invariants, tested: an auditor may call every GET route and nothing else; a workload
 * role (executor, observer) never decides, administers or reads the audit log.
 */
export const ROUTE_ROLES = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /openapi.json': 'public',
  'GET /.well-known/jwks.json': 'public',
  'GET /v1/log/checkpoint': 'public',
  'GET /v1/log/verifier-key': 'public',
  'GET /v1/log/verifier-keys': 'public',
  'GET /v1/log/proof/inclusion': 'public',
  'GET /v1/log/proof/consistency': 'public',
  /**
   * The console's sign-in answers for itself: it refuses cross-site calls
   * (`CSRF_REFUSED`), and the dev sign-in exists only in dev mode.
   */
  'GET /auth/options': 'public',
  'GET /auth/session': 'public',
  'POST /auth/dev/sign-in': 'public',
  'GET /auth/login': 'public',
  'GET /auth/callback': 'public',
  'GET /auth/callback/:issuer': 'public',
  'POST /auth/sign-out': 'public',
  /** The console's files: its pages hold no data, which comes from the API behind them. */
  'GET /': 'public',
  'GET /inbox': 'public',
  'GET /sign-in': 'public',
  'GET /requests/new': 'public',
  'GET /requests/:id': 'public',
  'GET /requests/:id/timeline': 'public',
  'GET /findings': 'public',
  'GET /exceptions': 'public',
  'GET /log': 'public',
  'GET /assets/*': 'public',
  'GET /v1/log/entries': ['auditor', 'admin'],
  'GET /v1/log/checkpoints': ['auditor', 'admin'],
  /**
   * Prometheus metrics: counts by outcome and code, never an id or a token, but they show
   * the service's traffic and findings, so readers only. A scraper without credentials
   * uses the config's `metrics.listen` port instead.
   */
  'GET /metrics': ['auditor', 'admin'],

  'POST /v1/nhis': ['requester', 'admin'],
  'GET /v1/nhis/:id': ['requester', 'approver', 'executor', 'observer', 'auditor', 'admin'],
  /** The service also requires membership of the current owner group, unless admin. */
  'PUT /v1/nhis/:id/owner': ['requester', 'admin'],
  'POST /v1/requests': ['requester'],
  /** What a request would match and who would approve it; writes nothing. */
  'POST /v1/requests/preview': ['requester'],
  'GET /v1/requests': ALL_READERS,
  'GET /v1/requests/:id': ALL_READERS,
  'GET /v1/requests/:id/review': ALL_READERS,
  'POST /v1/requests/:id/decisions': ['approver'],
  'POST /v1/requests/:id/withdrawal': ['requester'],
  'GET /v1/requests/:id/warrant': ['requester', 'executor', 'auditor', 'admin'],
  'GET /v1/requests/:id/evidence': ['requester', 'approver', 'auditor', 'admin'],
  'POST /v1/redemptions': ['executor'],
  'POST /v1/warrants/:id/revocation': ['requester', 'admin'],

  'POST /v1/fulfilments': ['executor'],
  'POST /v1/observations': ['observer'],
  'GET /v1/findings': ['requester', 'approver', 'auditor', 'admin'],
  'POST /v1/findings/:id/acknowledgement': ['admin'],
  'POST /v1/findings/:id/resolution': ['admin'],
  'POST /v1/reconcile': ['admin'],
  'GET /v1/reports/exceptions': ['auditor', 'admin'],
  'GET /v1/webhooks/dead-letters': ['auditor', 'admin'],

  'GET /v1/keys': ['auditor', 'admin'],
  'POST /v1/keys/rotation': ['admin'],
  'POST /v1/keys/:kid/revocation': ['admin'],
  /** Dev mode only: moves the server clock for end-to-end tests. */
  'POST /v1/dev/clock': ['admin'],
} as const satisfies Readonly<Record<string, Grant>>;

export type RouteKey = keyof typeof ROUTE_ROLES;

/** The README's role table: one row per route of {@link ROUTE_ROLES}, in its order. */
export function roleTableMarkdown(): string {
  const cells = (grant: Grant) => [
    grant === 'public' ? '✓' : '',
    ...ROLES.map((r) => (grant !== 'public' && grant.includes(r) ? '✓' : '')),
  ];
  const rows = Object.entries(ROUTE_ROLES) as Array<[string, Grant]>;
  return [
    `| method and path | public | ${ROLES.join(' | ')} |`,
    `| --- | --- | ${ROLES.map(() => '---').join(' | ')} |`,
    ...rows.map(([key, grant]) => `| \`${key}\` | ${cells(grant).join(' | ')} |`),
  ].join('\n');
}

/** The row of `method url`; HEAD answers as its GET does. */
export function grantFor(method: string, url: string): Grant | undefined {
  const key = `${method === 'HEAD' ? 'GET' : method} ${url}`;
  return Object.hasOwn(ROUTE_ROLES, key) ? ROUTE_ROLES[key as RouteKey] : undefined;
}

/** Whether `role` may call `method url` (false for routes with no row). */
export function allows(method: string, url: string, role: Role): boolean {
  const grant = grantFor(method, url);
  return grant === 'public' || (grant ?? []).includes(role);
}

function sameGrant(a: Grant, b: Grant): boolean {
  if (a === 'public' || b === 'public') return a === b;
  return ROLES.every((r) => a.includes(r) === b.includes(r));
}

/**
 * Gives every route its row of {@link ROUTE_ROLES} as `config.roles`, which the auth
 * hook enforces. A route without a row, or one that declares roles of its own that
 * differ from its row, stops the app from starting: the table must stay the truth.
 */
export function applyRouteRoles(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      const key = `${method} ${route.url}`;
      const grant = grantFor(method, route.url);
      if (grant === undefined) {
        throw new Error(`route ${key} has no row in ROUTE_ROLES (src/http/authz.ts)`);
      }
      const declared = route.config?.roles;
      if (declared !== undefined && !sameGrant(declared, grant)) {
        throw new Error(`route ${key} declares roles that differ from its ROUTE_ROLES row`);
      }
      route.config = { ...route.config, roles: grant };
    }
  });
}
