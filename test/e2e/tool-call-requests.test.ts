import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/canonical.js';
import { verifyBundle } from '../../src/evidence/index.js';
import { issueWarrant } from '../helpers/chain.js';
import { query, rowCounts } from '../helpers/db.js';
import { approve, registerAgent } from '../helpers/mcp-gating.js';
import { findingsOf, reconcileNow } from '../helpers/reconcile.js';
import { runCli, TestServer, type DevPrincipal, type HttpResult } from '../helpers/server.js';

/**
 * Tool-call approvals over the HTTP API, without a gateway: what a `tool_call` request
 * binds, what its warrant signs, which calls a redemption refuses, and what the evidence
 * bundle, the reconciler and the request list make of it.
 */

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start();
}, 60_000);
afterAll(async () => s?.stop());

const ARGS = { table: 'orders', sql: 'select * from orders' };
const TARGET = 'orders-db:query';
/** orders-db's query with nothing pinned: the tool of a session. */
const QUERY = { server: 'orders-db', name: 'query' };

/** A request for one call of orders-db's query by `subject`, valid but for what `over` changes. */
const toolRequest = (subject: string, over: Record<string, unknown> = {}) => ({
  subject,
  action: 'tool_call',
  tool: { ...QUERY, arguments: ARGS },
  scope: [{ resource: 'mcp/orders-db/query', permissions: ['call'] }],
  environment: 'staging',
  targets: [TARGET],
  executor: { principal: 'mcp-gateway' },
  duration: '2h',
  maxUses: 1,
  reason: 'the agent looks up an order',
  ...over,
});

const file = (body: unknown): Promise<HttpResult> =>
  s.http('POST', '/v1/requests', { as: 'alice', body });

/** Files and approves (bob and carol) a request; returns its id and warrant. */
async function issueOn(server: TestServer, body: unknown) {
  const r = await server.http('POST', '/v1/requests', { as: 'alice', body });
  if (r.status !== 201) throw new Error(r.text);
  const requestId = (r.body as { id: string }).id;
  await approve(server, requestId);
  const w = await server.http('GET', `/v1/requests/${requestId}/warrant`, { as: 'admin' });
  const { warrantId, token } = w.body as { warrantId: string; token: string };
  return { requestId, warrantId, token };
}

/** The call orders-db's query is about to make for `agent`, as a gateway presents it. */
const callOf = (agent: string, args: Record<string, unknown> = ARGS, over = {}) => ({
  agent,
  ...QUERY,
  argumentsDigest: digestOf(args),
  ...over,
});

const actionWith = (tool: unknown) => ({
  resource: 'mcp/orders-db/query',
  permission: 'call',
  environment: 'staging',
  target: TARGET,
  ...(tool === undefined ? {} : { tool }),
});

const redeem = (token: string, action: unknown, as: DevPrincipal = 'mcp-gateway') =>
  s.http('POST', '/v1/redemptions', { as, body: { warrant: token, action } });

const deniedCodes = (server: TestServer, warrantId: string): string[] =>
  query<{ code: string }>(
    server.dataDir,
    "select code from redemptions where warrant_id = ? and outcome = 'deny' order by seq",
    warrantId,
  ).map((r) => r.code);

describe('a tool_call request', () => {
  let agent: string;
  beforeAll(async () => {
    agent = await registerAgent(s);
  });

  const refusals: Array<[string, () => Record<string, unknown>]> = [
    ['names no tool', () => toolRequest(agent, { tool: undefined })],
    ['is a grant that names a tool', () => toolRequest(agent, { action: 'grant' })],
    [
      'discloses arguments that do not hash to its argumentsDigest',
      () => {
        const argumentsDigest = digestOf({ ...ARGS, table: 'invoices' });
        return toolRequest(agent, { tool: { ...QUERY, arguments: ARGS, argumentsDigest } });
      },
    ],
    [
      'discloses more than 4096 bytes of arguments',
      () => toolRequest(agent, { tool: { ...QUERY, arguments: { sql: 'x'.repeat(4087) } } }),
    ],
  ];
  for (const [when, body] of refusals) {
    it(`is refused with INVALID_TOOL_BINDING when it ${when}, and nothing is stored`, async () => {
      const before = rowCounts(s.dataDir);
      const r = await file(body());
      expect(r.status, r.text).toBe(400);
      expect(r.body.code).toBe('INVALID_TOOL_BINDING');
      expect(rowCounts(s.dataDir)).toEqual(before);
    });
  }

  it('accepts exactly 4096 bytes of disclosed arguments', async () => {
    // {"sql":"…"} is 10 bytes around the value.
    const tool = { ...QUERY, arguments: { sql: 'x'.repeat(4086) } };
    expect((await file(toolRequest(agent, { tool }))).status).toBe(201);
  });

  it('fills in the argumentsDigest of arguments disclosed without one', async () => {
    const r = await file(toolRequest(agent));
    expect(r.status, r.text).toBe(201);
    expect(r.body.body.tool).toEqual({
      ...QUERY,
      arguments: ARGS,
      argumentsDigest: digestOf(ARGS),
    });
  });

  it('refuses arguments holding a lone surrogate, in a value or a key, with LONE_SURROGATE', async () => {
    const before = rowCounts(s.dataDir);
    for (const args of ['{"sql":"\\ud800"}', '{"\\udc00":1}']) {
      const raw = JSON.stringify(toolRequest(agent)).replace(JSON.stringify(ARGS), args);
      const r = await s.http('POST', '/v1/requests', { as: 'alice', raw });
      expect(r.status, r.text).toBe(400);
      expect(r.body.code).toBe('LONE_SURROGATE');
    }
    expect(rowCounts(s.dataDir)).toEqual(before);
  });

  // RFC 8785 writes -0 as 0: the approvers would see, and the digest pin, another value.
  it('refuses arguments holding -0 with a stable code, and stores nothing', async () => {
    const before = rowCounts(s.dataDir);
    const raw = JSON.stringify(toolRequest(agent)).replace(JSON.stringify(ARGS), '{"limit":-0}');
    const r = await s.http('POST', '/v1/requests', { as: 'alice', raw });
    expect(r.status, r.text).toBe(400);
    expect(r.body.code).toBe('NON_CANONICAL_VALUE');
    expect(rowCounts(s.dataDir)).toEqual(before);
  });
});

describe('the warrant of an approved tool_call request', () => {
  let agent: string;
  let w: Awaited<ReturnType<typeof issueOn>>;
  beforeAll(async () => {
    agent = await registerAgent(s);
    w = await issueOn(s, toolRequest(agent, { maxUses: 2 }));
  });

  it('signs the tool: server, name, argument digest and the disclosed arguments', () => {
    const tool = { ...QUERY, argumentsDigest: digestOf(ARGS), arguments: ARGS };
    expect(decodeJwt(w.token).tool).toEqual(tool);
  });

  it('refuses another agent, another tool, other arguments and a call not named, recording each', async () => {
    const other = await registerAgent(s);
    const cases: Array<[unknown, string]> = [
      [callOf(other), 'TOOL_MISMATCH'],
      [callOf(agent, ARGS, { name: 'drop_table' }), 'TOOL_MISMATCH'],
      [callOf(agent, ARGS, { server: 'billing-db' }), 'TOOL_MISMATCH'],
      [callOf(agent, { ...ARGS, table: 'customers' }), 'ARGUMENTS_MISMATCH'],
      [undefined, 'TOOL_MISMATCH'],
    ];
    for (const [tool, code] of cases) {
      const r = await redeem(w.token, actionWith(tool));
      expect(r.status, r.text).toBe(403);
      expect(r.body.code).toBe(code);
    }
    expect(deniedCodes(s, w.warrantId)).toEqual(cases.map(([, code]) => code));
  });

  it('allows the approved call, and the receipt signs the call it was spent on', async () => {
    const r = await redeem(w.token, actionWith(callOf(agent)));
    expect(r.status, r.text).toBe(200);
    expect(decodeJwt(r.body.receipt).action).toEqual(actionWith(callOf(agent)));
  });
});

describe('a warrant that approves no tool call', () => {
  it('refuses a redemption that names one with TOOL_MISMATCH, and records it', async () => {
    const w = await issueWarrant(s);
    const tool = callOf('agent:whoever');
    const action = { resource: 'db/orders', permission: 'read', environment: 'staging', tool };
    const r = await redeem(w.token, action, 'deploy-eu');
    expect(r.body.code).toBe('TOOL_MISMATCH');
    expect(deniedCodes(s, w.warrantId)).toEqual(['TOOL_MISMATCH']);
  });
});

describe('a request that is not a tool call', () => {
  it('is refused argument constraints, which it could never check, and nothing is stored', async () => {
    const subject = await registerAgent(s);
    const before = rowCounts(s.dataDir);
    const r = await file(
      toolRequest(subject, {
        action: 'grant',
        tool: undefined,
        scope: [
          {
            resource: 'db/customers',
            permissions: ['read'],
            constraints: { region: { in: ['eu'] } },
          },
          { resource: 'db/orders', permissions: ['read'] },
        ],
        targets: [],
        executor: { principal: 'deploy-eu' },
      }),
    );
    expect([r.status, r.body.code]).toEqual([400, 'INVALID_SCOPE']);
    expect(r.body.detail).toContain('none to check');
    expect(rowCounts(s.dataDir)).toEqual(before);
  });
});

describe('a session warrant whose scope constrains the table', () => {
  it('allows query(orders), and refuses customers and a call that shows no table with SCOPE_EXCEEDED', async () => {
    const agent = await registerAgent(s);
    const scope = [
      {
        resource: 'mcp/orders-db/query',
        permissions: ['call'],
        constraints: { table: { in: ['orders', 'invoices'] } },
      },
    ];
    const w = await issueOn(s, toolRequest(agent, { tool: QUERY, scope, maxUses: 5 }));
    const presenting = (table?: string) => {
      const args = table === undefined ? {} : { table };
      return actionWith({ ...callOf(agent, args), ...(table ? { arguments: args } : {}) });
    };

    expect((await redeem(w.token, presenting('orders'))).status).toBe(200);
    expect((await redeem(w.token, presenting('customers'))).body.code).toBe('SCOPE_EXCEEDED');
    expect((await redeem(w.token, presenting())).body.code).toBe('SCOPE_EXCEEDED');
    expect(deniedCodes(s, w.warrantId)).toEqual(['SCOPE_EXCEEDED', 'SCOPE_EXCEEDED']);
  });
});

describe('the evidence bundle of a tool call', () => {
  it('carries the tool and the argument digest, and still verifies', async () => {
    const agent = await registerAgent(s);
    const w = await issueOn(s, toolRequest(agent));
    expect((await redeem(w.token, actionWith(callOf(agent)))).status).toBe(200);

    const r = await s.http('GET', `/v1/requests/${w.requestId}/evidence`, { as: 'audra' });
    expect(r.status, r.text).toBe(200);
    const leaves = (r.body.entries as { leaf: string }[]).map((e) => JSON.parse(e.leaf));
    const data = (type: string) => leaves.find((l) => l.type === type)?.data;
    expect(data('request.created').body.tool.argumentsDigest).toBe(digestOf(ARGS));
    expect(data('warrant.issued').claims.tool.argumentsDigest).toBe(digestOf(ARGS));
    expect(data('redemption.allowed').receipt.action.tool).toEqual(callOf(agent));

    const logVerifierKey = (await s.http('GET', '/v1/log/verifier-key')).text.split('\n')[0]!;
    const jwks = (await s.http('GET', '/.well-known/jwks.json')).body;
    const report = await verifyBundle(r.text, { logVerifierKey, jwks });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);

    // The CLI exports the same chain and verifies it offline with the pinned keys.
    const dir = mkdtempSync(join(tmpdir(), 'countersign-tool-evidence-'));
    try {
      const bundle = join(dir, 'bundle.json');
      const jwksFile = join(dir, 'jwks.json');
      writeFileSync(jwksFile, JSON.stringify(jwks));
      const exported = await s.cli(['evidence', 'export', w.requestId, '-o', bundle], 'audra');
      expect(exported.code, exported.stderr).toBe(0);
      expect(readFileSync(bundle, 'utf8')).toContain(digestOf(ARGS));
      const verify = [
        'evidence',
        'verify',
        bundle,
        '--log-key',
        logVerifierKey,
        '--jwks',
        jwksFile,
      ];
      const verified = await runCli(verify, {});
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout).toContain('Verification: PASSED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the request list', () => {
  it('filters by subject and action, and refuses an unknown action', async () => {
    const agent = await registerAgent(s);
    const tool = await file(toolRequest(agent));
    const grant = await file(toolRequest(agent, { action: 'grant', tool: undefined }));
    expect([tool.status, grant.status]).toEqual([201, 201]);
    const list = (q: string) =>
      s.http('GET', `/v1/requests?subject=${agent}&${q}`, { as: 'audra' });
    const ids = async (q: string) => (await list(q)).body.requests.map((x: { id: string }) => x.id);

    expect(await ids('action=tool_call')).toEqual([tool.body.id]);
    expect(await ids('action=grant')).toEqual([grant.body.id]);
    const bad = await list('action=call_tool');
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('reconciliation of tool calls', () => {
  let late: TestServer;
  beforeAll(async () => {
    late = await TestServer.start();
  }, 60_000);
  afterAll(async () => late?.stop());

  it('flags the target of a session never used once its window ends, and not one whose call was reported', async () => {
    const session = (agent: string) => toolRequest(agent, { tool: QUERY, maxUses: 3 });
    const idle = await registerAgent(late);
    const busy = await registerAgent(late);
    const unused = await issueOn(late, session(idle));
    const used = await issueOn(late, session(busy));
    const redeemed = await late.http('POST', '/v1/redemptions', {
      as: 'mcp-gateway',
      body: { warrant: used.token, action: actionWith(callOf(busy)) },
    });
    expect(redeemed.status, redeemed.text).toBe(200);
    // A successful apply must carry a fingerprint; the result's digest stands in for one
    // (the gateway's own report sends none: see check-tool-call.test.ts).
    const fingerprint = digestOf({ rows: 0 });
    const reported = await late.http('POST', '/v1/fulfilments', {
      as: 'mcp-gateway',
      body: { receipt: redeemed.body.receipt, target: TARGET, outcome: 'success', fingerprint },
    });
    expect(reported.status, reported.text).toBe(201);

    await late.advanceClock('3h');
    await reconcileNow(late);
    const unfulfilled = async (agent: string) =>
      (await findingsOf(late, agent)).filter((f) => f.kind === 'UNFULFILLED_TARGET');
    expect(await unfulfilled(idle)).toMatchObject([
      { requestId: unused.requestId, target: TARGET, state: 'open' },
    ]);
    expect(await unfulfilled(busy)).toEqual([]);
  });
});
