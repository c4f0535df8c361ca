import { Agent } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BODY_LIMIT as BODY_LIMIT } from '../../src/http/app.js';
import { isErrorCode } from '../../src/http/problem.js';
import { REDEMPTION_DENIAL_CODES } from '../../src/redemption/redemption.js';
import { createRequest, issueWarrant, uniqueNhi } from '../helpers/chain.js';
import { CHAIN_TABLES, rowCount } from '../helpers/db.js';
import { documentedRoutes, sample, type Route } from '../helpers/openapi.js';
import { CLOSED_WHILE_SENDING, sendRaw } from '../helpers/raw-http.js';
import { TestServer, type DevPrincipal } from '../helpers/server.js';
import {
  bodyArb,
  CODINGS,
  CONTENT_TYPES,
  encodeBody,
  isIdentity,
  PATH_JUNK,
  QUERY_JUNK,
} from './hostile-input.js';
import { redemptionBody } from './support.js';

/** At least 10,000 in CI; fewer by default locally, or as many as FUZZ_CASES says. */
const CASES = Number(process.env.FUZZ_CASES ?? (process.env.CI === 'true' ? 10_000 : 1_500));
const PRINCIPALS: DevPrincipal[] = [
  'alice',
  'bob',
  'carol',
  'deploy-eu',
  'deploy-us',
  'audra',
  'collector',
  'admin',
];
/** Denials `redeem` records once it has read a redemption. */
const CHECK_DENIALS: ReadonlySet<string> = new Set(REDEMPTION_DENIAL_CODES);
/** Bodies no route may accept, whatever else is right about the request. */
const UNREADABLE = new Set(['lone-surrogate', 'invalid-utf8']);

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

let s: TestServer;
let db: Database.Database;
let fixtures: { ids: string[]; kids: string[]; templates: Map<string, unknown> };

const TABLES = [
  ...CHAIN_TABLES,
  'findings',
  'fulfilments',
  'observations',
  'webhook_deliveries',
] as const;

interface Snapshot {
  readonly counts: Record<string, number>;
  readonly states: ReadonlyArray<string | null>;
}

/** Everything a state change touches; the background log integration is left out. */
function snapshot(): Snapshot {
  const states = [
    "select group_concat(id || state, ',') as v from requests",
    "select group_concat(id || state || uses, ',') as v from warrants",
    "select group_concat(kid || state, ',') as v from signing_keys",
    "select group_concat(id || state, ',') as v from findings",
  ].map((q) => (db.prepare(q).get() as { v: string | null }).v);
  return { counts: Object.fromEntries(TABLES.map((t) => [t, rowCount(db, t)])), states };
}

/** The same state plus one recorded redemption denial (a row and its event). */
const plusOneDenial = (b: Snapshot): Snapshot => ({
  counts: { ...b.counts, redemptions: b.counts.redemptions! + 1, events: b.counts.events! + 1 },
  states: b.states,
});

const newestRedemption = () =>
  db.prepare('select outcome, code from redemptions order by seq desc limit 1').get() as {
    outcome: string;
    code: string;
  };

beforeAll(async () => {
  s = await TestServer.start({ config: { reconcileInterval: '24h' } });
  db = new Database(join(s.dataDir, 'countersign.db'), { readonly: true, fileMustExist: true });
  const pending = await createRequest(s);
  const issued = await issueWarrant(s, { maxUses: 10 });
  const redeemed = await s.http('POST', '/v1/redemptions', {
    as: 'deploy-eu',
    body: redemptionBody(issued.token),
  });
  const keys = await s.http('GET', '/v1/keys', { as: 'admin' });
  const kids = (keys.body.keys as Array<{ kid: string }>).map((x) => x.kid);
  const nhi = uniqueNhi();
  const templates = new Map<string, unknown>([
    ['POST /v1/nhis', { id: nhi, kind: 'ai_agent', owner: 'team-data', description: 'fuzz' }],
    ['POST /v1/redemptions', redemptionBody(issued.token)],
    [
      'POST /v1/requests',
      {
        subject: nhi,
        action: 'grant',
        scope: [{ resource: 'db/orders', permissions: ['read'] }],
        environment: 'staging',
        targets: [],
        executor: { principal: 'deploy-eu' },
        duration: '1h',
        maxUses: 1,
        reason: 'fuzz',
      },
    ],
    ['POST /v1/requests/{id}/decisions', { decision: 'approve', reason: 'fuzz' }],
    [
      'POST /v1/fulfilments',
      {
        receipt: redeemed.body.receipt as string,
        target: 'default',
        outcome: 'success',
        phase: 'apply',
        fingerprint: 'sha256:' + 'a'.repeat(64),
      },
    ],
    [
      'POST /v1/observations',
      {
        observations: [
          {
            subject: nhi,
            target: 'default',
            observedAt: new Date().toISOString(),
            fact: { kind: 'secret_version', fingerprint: 'sha256:' + 'b'.repeat(64) },
          },
        ],
      },
    ],
  ]);
  fixtures = { ids: [pending, issued.requestId, issued.warrantId, nhi], kids, templates };
});

afterAll(async () => {
  db.close();
  agent.destroy();
  await s.stop();
});

describe('hostile input on every endpoint', () => {
  describe('when malformed, oversized, nested, wrong-typed, confusable, ill-formed or encoded input arrives', () => {
    it('never answers 5xx, changes nothing when it refuses (but records a refused redemption), and keeps serving', async () => {
      const routes: Route[] = await documentedRoutes(s);
      expect(routes.length).toBeGreaterThan(20);

      const caseArb = fc.constantFrom(...routes).chain((route) => {
        const key = `${route.method} ${route.path}`;
        const template = fixtures.templates.get(key) ?? sample(route.bodySchema ?? undefined);
        return fc.record({
          route: fc.constant(route),
          params: fc.array(
            fc.oneof(fc.constantFrom(...fixtures.ids, ...fixtures.kids), PATH_JUNK),
            { minLength: route.params.length, maxLength: route.params.length },
          ),
          query: QUERY_JUNK,
          auth: fc.oneof(
            {
              weight: 6,
              arbitrary: fc.constantFrom(...PRINCIPALS).map((p) => `Bearer ${s.tokens[p]}`),
            },
            fc.constantFrom(
              '',
              'Bearer ',
              'Basic YWRtaW46YWRtaW4=',
              `bearer ${s.tokens.admin}`,
              `Bearer ${s.tokens.admin}x`,
              `Bearer  ${s.tokens['deploy-eu']}`,
              'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
              `Bearer ${'A'.repeat(8000)}`,
            ),
            fc.string({ maxLength: 40 }).map((x) => `Bearer ${x.replace(/[^\x20-\x7e]/g, '')}`),
          ),
          contentType: fc.constantFrom(...CONTENT_TYPES),
          coding: CODINGS,
          compress: fc.boolean(),
          body:
            route.bodySchema || route.method === 'POST'
              ? bodyArb(template ?? {})
              : fc.option(bodyArb({}), { freq: 4 }),
        });
      });

      const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
      // Printed first, so a failing run can be replayed even when its report is cut short.
      console.log(`hostile: FUZZ_SEED=${seed} replays this run (FUZZ_CASES=${CASES})`);
      const started = Date.now();
      let cases = 0;
      const statuses = new Map<number, number>();
      const kinds = new Map<string, number>();
      const recorded = new Map<string, number>();
      const tally = (m: Map<string | number, number>, k: string | number) =>
        m.set(k, (m.get(k) ?? 0) + 1);
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          cases += 1;
          let path = c.route.path;
          c.route.params.forEach((name, i) => {
            path = path.replace(`{${name}}`, c.params[i] as string);
          });
          const headers: Record<string, string> = {};
          if (c.auth) headers.authorization = c.auth;
          const body = c.body ?? undefined;
          if (body !== undefined && c.contentType) headers['content-type'] = c.contentType;
          if (c.coding !== null) headers['content-encoding'] = c.coding;
          const bytes = body && encodeBody(c.coding, body.bytes, c.compress);
          const before = snapshot();
          const oversized = bytes !== undefined && bytes.length > BODY_LIMIT;
          const res = await sendRaw(
            s.url,
            c.route.method,
            path + c.query,
            headers,
            bytes,
            agent,
            oversized,
          );
          tally(statuses, res.status);
          tally(kinds, body?.kind ?? 'none');
          if (res.status === CLOSED_WHILE_SENDING) {
            // Refused unread: nothing can have changed, and the server keeps serving.
            expect(snapshot()).toEqual(before);
            return;
          }
          const what = `${c.route.method} ${path.slice(0, 200)}${c.query.slice(0, 100)} [${body?.kind ?? 'no body'}, coding ${JSON.stringify(c.coding)}] → ${res.status} ${res.text.slice(0, 300)}`;
          expect(res.status, what).toBeLessThan(500);
          if (c.route.method !== 'GET' && body) {
            // Nothing ill-formed or encoded is ever accepted.
            if (UNREADABLE.has(body.kind) || !isIdentity(c.coding)) {
              expect(res.status, what).toBeGreaterThanOrEqual(400);
            }
          }
          if (res.status < 400) return;
          expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
          const problem = JSON.parse(res.text) as { code?: string; status?: number };
          const code = problem.code ?? '';
          expect(isErrorCode(code), what).toBe(true);
          expect(problem.status, what).toBe(res.status);
          // A redemption refused once its caller is authenticated is recorded: by `redeem`
          // (403, a check's code) or at the edge (400 or 415, REDEMPTION_MALFORMED).
          const isRedemption = c.route.method === 'POST' && c.route.path === '/v1/redemptions';
          const denial =
            res.status === 403 && CHECK_DENIALS.has(code)
              ? code
              : res.status === 400 || res.status === 415
                ? 'REDEMPTION_MALFORMED'
                : null;
          if (isRedemption && denial !== null) {
            expect(snapshot(), `not recorded exactly once: ${what}`).toEqual(plusOneDenial(before));
            expect(newestRedemption(), what).toEqual({ outcome: 'deny', code: denial });
            tally(recorded, denial === 'REDEMPTION_MALFORMED' ? `${denial}(${code})` : denial);
            return;
          }
          expect(snapshot(), `state changed by a refused request: ${what}`).toEqual(before);
        }),
        {
          numRuns: CASES,
          endOnFailure: true,
          seed,
        },
      );
      const health = await s.http('GET', '/healthz');
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const json = (m: Map<string | number, number>) =>
        JSON.stringify(Object.fromEntries([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1))));
      console.log(
        `hostile: ${cases} cases over ${routes.length} routes in ${seconds} s; statuses ${json(statuses)}; ` +
          `bodies ${json(kinds)}; recorded redemption denials ${json(recorded)}; /healthz ${health.status}`,
      );
      expect(cases).toBe(CASES);
      expect(health.status).toBe(200);
      expect(s.proc.exitCode).toBeNull();
    }, 600_000);
  });
});
