import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestBody } from '../fixtures/request-body.js';
import { createRequest, uniqueNhi } from '../helpers/chain.js';
import { rowCounts } from '../helpers/db.js';
import { TestServer, type DevPrincipal } from '../helpers/server.js';

let s: TestServer;
let requestId: string;
beforeAll(async () => {
  s = await TestServer.start();
  requestId = await createRequest(s);
});
afterAll(async () => {
  await s.stop();
});

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: () => string;
  readonly as?: DevPrincipal;
  readonly raw?: () => string;
  readonly body?: () => unknown;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
}

const nhi = (extra: Record<string, unknown> = {}) => ({
  id: uniqueNhi(),
  kind: 'secret',
  owner: 'x',
  ...extra,
});

/** A request body for an unregistered subject, valid but for what `over` changes. */
const unknownSubject = (over: Record<string, unknown>) => requestBody('agent:nope', over);

const CASES: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    path: () => '/v1/nhis',
    as: 'admin',
    raw: () => '{"id":',
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'an empty JSON body',
    method: 'POST',
    path: () => '/v1/nhis',
    as: 'admin',
    raw: () => '',
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'an oversized body',
    method: 'POST',
    path: () => '/v1/nhis',
    as: 'admin',
    body: () => nhi({ description: 'x'.repeat(100_000) }),
    status: 413,
    code: 'BODY_TOO_LARGE',
  },
  {
    name: 'a wrong type',
    method: 'POST',
    path: () => '/v1/nhis',
    as: 'admin',
    body: () => nhi({ kind: 5 }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'an unknown field',
    method: 'POST',
    path: () => '/v1/nhis',
    as: 'admin',
    body: () => nhi({ admin: true }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'duplicate keys',
    method: 'POST',
    path: () => '/v1/nhis',
    as: 'admin',
    raw: () => `{"id":"${uniqueNhi()}","kind":"secret","owner":"a","owner":"b"}`,
    status: 400,
    code: 'DUPLICATE_JSON_KEY',
  },
  {
    name: 'deep nesting',
    method: 'POST',
    path: () => '/v1/nhis',
    as: 'admin',
    raw: () => '['.repeat(5000) + ']'.repeat(5000),
    status: 400,
    code: 'JSON_TOO_DEEP',
  },
  {
    name: 'a huge number',
    method: 'POST',
    path: () => '/v1/requests',
    as: 'alice',
    raw: () => '{"maxUses":1e400}',
    status: 400,
    code: 'INVALID_JSON',
  },
  {
    name: 'a non-JSON content type',
    method: 'POST',
    path: () => '/v1/nhis',
    as: 'admin',
    raw: () => 'id=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'a request for an unregistered subject',
    method: 'POST',
    path: () => '/v1/requests',
    as: 'alice',
    body: () => unknownSubject({ scope: [{ resource: 'db/../x', permissions: ['read'] }] }),
    status: 404,
    code: 'NHI_UNKNOWN',
  },
  {
    name: 'an unknown request id',
    method: 'GET',
    path: () => `/v1/requests/sha256:${'0'.repeat(64)}`,
    as: 'audra',
    status: 404,
    code: 'REQUEST_UNKNOWN',
  },
  {
    name: 'a malformed request id',
    method: 'GET',
    path: () => '/v1/requests/not-a-digest',
    as: 'audra',
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'a decision on an unknown request',
    method: 'POST',
    path: () => `/v1/requests/sha256:${'1'.repeat(64)}/decisions`,
    as: 'bob',
    body: () => ({ decision: 'approve' }),
    status: 404,
    code: 'REQUEST_UNKNOWN',
  },
  {
    name: 'a denial without a reason',
    method: 'POST',
    path: () => `/v1/requests/${requestId}/decisions`,
    as: 'bob',
    body: () => ({ decision: 'deny' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'revoking an unknown warrant',
    method: 'POST',
    path: () => '/v1/warrants/wrt_nope/revocation',
    as: 'admin',
    body: () => ({ reason: 'x' }),
    status: 404,
    code: 'WARRANT_NOT_FOUND',
  },
  {
    name: 'an unknown NHI',
    method: 'GET',
    path: () => '/v1/nhis/svc:nobody',
    as: 'audra',
    status: 404,
    code: 'NHI_UNKNOWN',
  },
  {
    name: 'an executor creating a request',
    method: 'POST',
    path: () => '/v1/requests',
    as: 'deploy-eu',
    body: () => ({}),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'a requester redeeming',
    method: 'POST',
    path: () => '/v1/redemptions',
    as: 'alice',
    body: () => ({ warrant: 'x', action: { resource: 'a', permission: 'b', environment: 'c' } }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'an auditor approving',
    method: 'POST',
    path: () => `/v1/requests/${requestId}/decisions`,
    as: 'audra',
    body: () => ({ decision: 'approve' }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'an auditor registering an NHI',
    method: 'POST',
    path: () => '/v1/nhis',
    as: 'audra',
    body: () => nhi(),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'no token',
    method: 'POST',
    path: () => '/v1/nhis',
    body: () => nhi(),
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'an unknown token',
    method: 'GET',
    path: () => '/v1/requests',
    headers: { authorization: 'Bearer cs_not-a-real-token-at-all' },
    status: 401,
    code: 'UNAUTHENTICATED',
  },
  {
    name: 'an unknown route',
    method: 'GET',
    path: () => '/v1/../../etc/passwd',
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'an unknown route sent a body that is no JSON',
    method: 'DELETE',
    path: () => '/nope',
    raw: () => '{"id":',
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'a route that does not take the method, sent a body with a key twice',
    method: 'DELETE',
    path: () => '/v1/keys',
    as: 'admin',
    raw: () => '{"a":1,"a":2}',
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  ...(['DELETE', 'PUT', 'OPTIONS'] as const).map((method) => ({
    name: `${method} to a route that does not take it`,
    method,
    path: () => '/v1/requests',
    as: 'alice' as const,
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  })),
  {
    name: 'PATCH to a route with a parameter that does not take it',
    method: 'PATCH',
    path: () => `/v1/requests/${encodeURIComponent(requestId)}`,
    as: 'alice',
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'a malformed duration',
    method: 'POST',
    path: () => '/v1/requests',
    as: 'alice',
    body: () => unknownSubject({ duration: 'banana' }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  ...['garbage', '2020', '2026-12-04T10:00:00'].map((since) => ({
    name: `an exceptions report since ${since}, which is no RFC 3339 instant`,
    method: 'GET',
    path: () => `/v1/reports/exceptions?since=${since}`,
    as: 'audra' as const,
    status: 400,
    code: 'VALIDATION_FAILED',
  })),
  ...[{ to: '2026-12-04Tgarbage' }, { to: '2026-02-30T00:00:00Z' }, { advance: '99999999d' }].map(
    (body) => ({
      name: `a dev clock moved to ${JSON.stringify(body)}, which is no instant`,
      method: 'POST',
      path: () => '/v1/dev/clock',
      as: 'admin' as const,
      body: () => body,
      status: 400,
      code: 'VALIDATION_FAILED',
    }),
  ),
  {
    name: 'headers over the HTTP parser limit',
    method: 'GET',
    path: () => '/v1/requests',
    as: 'alice',
    headers: { 'x-junk': 'a'.repeat(20_000) },
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
];

/** Sends raw bytes on a fresh connection and returns everything the server answers. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((ok, fail) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('close', () => ok(answer));
    socket.on('error', fail);
  });
}

describe('bad input', () => {
  for (const c of CASES) {
    describe(`when a client sends ${c.name}`, () => {
      it(`answers ${c.status} problem+json with code ${c.code} and writes nothing`, async () => {
        const before = rowCounts(s.dataDir);
        const res = await s.http(c.method, c.path(), {
          ...(c.as ? { as: c.as } : {}),
          ...(c.raw ? { raw: c.raw() } : {}),
          ...(c.body ? { body: c.body() } : {}),
          ...(c.headers ? { headers: c.headers } : {}),
        });
        expect(res.status, res.text).toBe(c.status);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body).toMatchObject({ status: c.status, code: c.code });
        expect(typeof res.body.detail).toBe('string');
        expect(rowCounts(s.dataDir)).toEqual(before);
      });
    });
  }

  it('names the methods a route takes in Allow when it refuses another', async () => {
    const r = await s.http('DELETE', '/v1/requests', { as: 'alice' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, HEAD, POST');
    const one = await s.http('PATCH', `/v1/requests/${encodeURIComponent(requestId)}`, {
      as: 'alice',
    });
    expect(one.headers.get('allow')).toBe('GET, HEAD');
  });

  it('tells caches to keep nothing an authenticated caller was shown, and lets public keys be cached', async () => {
    const authed = await s.http('GET', `/v1/requests/${encodeURIComponent(requestId)}`, {
      as: 'alice',
    });
    expect([authed.status, authed.headers.get('cache-control')]).toEqual([200, 'no-store']);
    const jwks = await s.http('GET', '/.well-known/jwks.json');
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=60');
  });

  it('still keeps time after the clock was refused an instant', async () => {
    const r = await s.http('GET', '/v1/requests', { as: 'alice' });
    expect(r.status, r.text).toBe(200);
  });

  describe('when a client sends bytes that are not HTTP', () => {
    it('answers 400 problem+json with code MALFORMED_HTTP, closes the connection and keeps serving', async () => {
      const answer = await rawExchange(s.url, 'NOT HTTP AT ALL\r\n\r\n');
      const [head, body] = answer.split('\r\n\r\n') as [string, string];
      expect(head).toMatch(/^HTTP\/1\.1 400 /);
      expect(head.toLowerCase()).toContain('content-type: application/problem+json');
      expect(JSON.parse(body)).toMatchObject({ status: 400, code: 'MALFORMED_HTTP' });
      expect((await s.http('GET', '/healthz')).status).toBe(200);
    });
  });

  describe('when a client sends an Expect header other than 100-continue', () => {
    it('answers 417 problem+json with code EXPECTATION_FAILED and keeps serving', async () => {
      const answer = await rawExchange(
        s.url,
        'POST /v1/nhis HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Type: application/json\r\n' +
          'Content-Length: 2\r\n\r\n{}',
      );
      const [head, body] = answer.split('\r\n\r\n') as [string, string];
      expect(head).toMatch(/^HTTP\/1\.1 417 /);
      expect(head.toLowerCase()).toContain('content-type: application/problem+json');
      expect(JSON.parse(body)).toMatchObject({ status: 417, code: 'EXPECTATION_FAILED' });
      expect((await s.http('GET', '/healthz')).status).toBe(200);
    });
  });

  describe('when a request exceeds the policy', () => {
    it('refuses a window longer than the rule allows with POLICY_LIMIT_EXCEEDED', async () => {
      const before = rowCounts(s.dataDir);
      await expect(createRequest(s, { duration: '9h' })).rejects.toThrow(/POLICY_LIMIT_EXCEEDED/);
      await expect(createRequest(s, { maxUses: 11 })).rejects.toThrow(/POLICY_LIMIT_EXCEEDED/);
      // Only the NHIs registered by the helper were written.
      const after = rowCounts(s.dataDir);
      expect(after.requests).toBe(before.requests);
    });
  });
});

describe('a policy that no rule matches', () => {
  it('refuses the request at creation with NO_MATCHING_POLICY', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-policy-'));
    writeFileSync(
      join(dir, 'policy.yaml'),
      'version: 1\nenvironments: [prod, staging]\nrules:\n  - name: prod-only\n    match: { environments: [prod], nhiKinds: [pipeline] }\n    approvals: { required: 2, groups: [sre] }\n    maxDuration: 1h\n    maxUses: 1\n',
    );
    const t = await TestServer.start({ dataDir: dir });
    try {
      await expect(createRequest(t, { env: 'staging' })).rejects.toThrow(/NO_MATCHING_POLICY/);
      expect(rowCounts(dir).requests).toBe(0);
    } finally {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
