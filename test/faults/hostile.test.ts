import { request as httpRequest, Agent } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, issueWarrant, uniqueNhi } from '../helpers/chain.js';
import { TestServer, type DevPrincipal } from '../helpers/server.js';
import { redemptionBody } from './support.js';
import { REDEMPTION_DENIAL_CODES } from '../../src/redemption/redemption.js';

const CASES = 1500;
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
/** Refusals the server records on purpose (an audited denial is a state change by design). */
const RECORDED_DENIALS: ReadonlySet<string> = new Set(REDEMPTION_DENIAL_CODES);

interface Route {
  readonly method: string;
  readonly path: string;
  readonly params: readonly string[];
  readonly query: readonly string[];
  readonly bodySchema: Schema | null;
}

interface Schema {
  readonly type?: 'object' | 'array' | 'integer' | 'number' | 'boolean' | 'string' | 'null';
  readonly properties?: Record<string, Schema>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly anyOf?: readonly Schema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minimum?: number;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** A raw HTTP exchange: the path and body go out exactly as generated. */
function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((ok, fail) => {
    const req = httpRequest(
      { agent, hostname, port, method, path, headers, timeout: 15_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          ok({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

/** A shape-right (not necessarily meaningful) value for a JSON Schema, for new endpoints. */
function sample(schema: Schema | undefined): unknown {
  if (!schema) return null;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return sample(schema.anyOf[0]);
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sample(v)]),
      );
    case 'array':
      return [sample(schema.items)];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      return 'fuzz';
    case 'null':
    case undefined:
    default:
      return null;
  }
}

/** Every (string-keyed) path of leaves and objects inside a JSON value. */
function pathsOf(v: unknown, prefix: string[] = []): string[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
  return [prefix, ...entries.flatMap(([k, x]) => pathsOf(x, [...prefix, k]))];
}

function setAt(v: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const copy: Record<string, unknown> | unknown[] = Array.isArray(v)
    ? [...(v as unknown[])]
    : { ...(v as Record<string, unknown>) };
  (copy as Record<string, unknown>)[head] = setAt(
    (v as Record<string, unknown>)[head],
    rest,
    value,
  );
  return copy;
}

const CONFUSABLES: ReadonlyArray<(s: string) => string> = [
  (s) => s.replace(/a/g, '\u0430').replace(/e/g, '\u0435').replace(/o/g, '\u043e'), // Cyrillic
  (s) => s.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)), // fullwidth
  (s) => `${s}\u200b`, // zero-width space
  (s) => `\u202e${s}`, // right-to-left override
  (s) => `${s}\u0000`,
  (s) => s.normalize('NFD') + '\u0301',
  (s) => `${s}\ud800`, // lone surrogate
  (s) => s.toUpperCase(),
  (s) => ` ${s} `,
  (s) => s.replace(/-/g, '\u2010'), // hyphen look-alike
];

const HUGE_NUMBERS = [
  '1e309',
  '-1e309',
  '123456789012345678901234567890',
  '9007199254740993',
  '-0',
  '1e-400',
  '0.1e1',
  '-9223372036854775809',
  '1.5',
  '0x10',
  'NaN',
  'Infinity',
  '00',
];

/** Bodies that reach the strict JSON parser, the schema and the rules, built from a template. */
function bodyArb(template: unknown): fc.Arbitrary<{ kind: string; text: string }> {
  const json = JSON.stringify(template);
  const paths = pathsOf(template);
  const at = fc.constantFrom(...paths);
  const k = (kind: string) => (text: string) => ({ kind, text });
  return fc.oneof(
    fc.constant({ kind: 'valid', text: json }),
    fc
      .oneof(
        fc.string({ maxLength: 60 }),
        fc.integer({ min: 1, max: Math.max(1, json.length - 1) }).map((n) => json.slice(0, n)),
        fc.constantFrom(
          '',
          '{',
          '{"a":1,}',
          "{'a':1}",
          '{"a":}',
          '\ufeff{}',
          '{} {}',
          '{/*c*/}',
          'null',
          '[]',
          '"x"',
          '{"a":"\\u12"}',
          '{"a":"\\x41"}',
          '{"__proto__":{"admin":true}}',
          '{"constructor":{"prototype":{"x":1}}}',
        ),
      )
      .map(k('malformed')),
    fc
      .constantFrom(65 * 1024, 70_000, 1024 * 1024)
      .map((n) => JSON.stringify({ ...(template as object), pad: 'x'.repeat(n) }))
      .map(k('oversized')),
    fc
      .tuple(
        at,
        fc.integer({ min: 1, max: 60 }).map((n) => 'A'.repeat(n * 1000)),
      )
      .map(([p, big]) => JSON.stringify(setAt(template, p, big)))
      .map(k('long-string')),
    fc
      .tuple(at, fc.constantFrom(32, 64, 200, 1000, 20_000), fc.boolean())
      .map(([p, depth, arr]) => {
        const marker = '"__DEEP__"';
        const open = arr ? '['.repeat(depth) : '{"a":'.repeat(depth);
        const close = arr ? ']'.repeat(depth) : '}'.repeat(depth);
        return JSON.stringify(setAt(template, p, '__DEEP__')).replace(marker, `${open}1${close}`);
      })
      .map(k('deep')),
    fc
      .tuple(at, fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, true, 0, [], {})))
      .map(([p, v]) => JSON.stringify(setAt(template, p, v)))
      .map(k('wrong-type')),
    fc
      .tuple(
        fc.constantFrom(...Object.keys((template as object) ?? {}), 'x'),
        fc.jsonValue({ maxDepth: 1 }),
      )
      .map(([key, v]) => json.replace(/^\{/, `{${JSON.stringify(key)}:${JSON.stringify(v)},`))
      .map(k('duplicate-key')),
    fc
      .tuple(at, fc.constantFrom(...CONFUSABLES))
      .map(([p, f]) => {
        let cur: unknown = template;
        for (const seg of p) cur = (cur as Record<string, unknown>)[seg];
        const s = typeof cur === 'string' ? cur : 'admin';
        return JSON.stringify(setAt(template, p, f(s)));
      })
      .map(k('confusable')),
    fc
      .tuple(at, fc.constantFrom(...HUGE_NUMBERS))
      .map(([p, n]) => JSON.stringify(setAt(template, p, '__NUM__')).replace('"__NUM__"', n))
      .map(k('huge-number')),
    fc
      .tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }))
      .map(([key, v]) => JSON.stringify({ ...(template as object), [key]: v }))
      .map(k('extra-field')),
    fc
      .jsonValue({ maxDepth: 4 })
      .map((v) => JSON.stringify(v))
      .map(k('junk')),
  );
}

const PATH_JUNK = fc.oneof(
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom(
    '..%2F..%2Fetc%2Fpasswd',
    '%00',
    '%ZZ',
    '%',
    '%C0%AF',
    '%E2%80%AE',
    'sha256:' + 'a'.repeat(64),
    'sha256:' + 'A'.repeat(64),
    'wrt_' + '0'.repeat(26),
    'x'.repeat(9000),
    '__proto__',
    'constructor',
    '1e309',
    '-1',
    '%20',
  ),
);

const QUERY_JUNK = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.constantFrom(
          'state',
          'limit',
          'start',
          'end',
          'index',
          'size',
          'from',
          'to',
          'since',
          '__proto__',
          'x',
        ),
        fc.oneof(
          fc.string({ maxLength: 20 }).map(encodeURIComponent),
          fc.constantFrom(
            ...HUGE_NUMBERS,
            'pending',
            '0',
            '1',
            '2',
            '%ZZ',
            '',
            '2024-01-01T00:00:00Z',
          ),
        ),
      ),
      { maxLength: 4 },
    )
    .map((kv) => `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`),
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  '',
];

let s: TestServer;
let db: Database.Database;
let fixtures: { ids: string[]; kids: string[]; templates: Map<string, unknown> };

/** Everything a state change touches; the background log integration is left out. */
function snapshot(): string {
  const count = (t: string) =>
    (db.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n;
  const tables = [
    'nhis',
    'requests',
    'decisions',
    'warrants',
    'redemptions',
    'events',
    'signing_keys',
    'findings',
    'fulfilments',
    'observations',
    'webhook_deliveries',
  ];
  const states = [
    "select group_concat(id || state, ',') as v from requests",
    "select group_concat(id || state || uses, ',') as v from warrants",
    "select group_concat(kid || state, ',') as v from signing_keys",
    "select group_concat(id || state, ',') as v from findings",
  ].map((q) => (db.prepare(q).get() as { v: string | null }).v);
  return JSON.stringify([tables.map(count), states]);
}

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
  describe('when malformed, oversized, nested, wrong-typed or confusable input arrives', () => {
    it('never answers 5xx, changes nothing when it refuses, and keeps serving', async () => {
      const doc = (await s.http('GET', '/openapi.json')).body as {
        paths: Record<
          string,
          Record<
            string,
            {
              parameters?: Array<{ name: string; in: string }>;
              requestBody?: { content: Record<string, { schema: Schema }> };
            }
          >
        >;
      };
      const routes: Route[] = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({
          method: method.toUpperCase(),
          path,
          params: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
          query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
          bodySchema: op.requestBody?.content['application/json']?.schema ?? null,
        })),
      );
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
          body:
            route.bodySchema || route.method === 'POST'
              ? bodyArb(template ?? {})
              : fc.option(bodyArb({}), { freq: 4 }),
        });
      });

      const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
      // Printed first, so a failing run can be replayed even when its report is cut short.
      console.log(`hostile: FUZZ_SEED=${seed} replays this run`);
      let cases = 0;
      const statuses = new Map<number, number>();
      const kinds = new Map<string, number>();
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
          // Framed, so the body is this request's and never read as the next request.
          if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body.text));
          const before = snapshot();
          const res = await send(s.url, c.route.method, path + c.query, headers, body?.text);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          kinds.set(body?.kind ?? 'none', (kinds.get(body?.kind ?? 'none') ?? 0) + 1);
          const what = `${c.route.method} ${path.slice(0, 200)}${c.query.slice(0, 100)} [${body?.kind ?? 'no body'}] → ${res.status} ${res.text.slice(0, 300)}`;
          expect(res.status, what).toBeLessThan(500);
          if (res.status >= 400) {
            expect(res.headers['content-type'], what).toMatch(/^application\/problem\+json/);
            const code = (JSON.parse(res.text) as { code?: string }).code ?? '';
            if (c.route.path === '/v1/redemptions' && RECORDED_DENIALS.has(code)) return;
            expect(snapshot(), `state changed by a refused request: ${what}`).toBe(before);
          }
        }),
        {
          numRuns: CASES,
          endOnFailure: true,
          seed,
        },
      );
      const health = await s.http('GET', '/healthz');
      console.log(
        `hostile: ${cases} cases over ${routes.length} routes; statuses ` +
          `${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}; ` +
          `bodies ${JSON.stringify(Object.fromEntries(kinds))}; /healthz ${health.status}`,
      );
      expect(cases).toBe(CASES);
      expect(health.status).toBe(200);
      expect(s.proc.exitCode).toBeNull();
    }, 180_000);
  });
});
