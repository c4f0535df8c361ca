import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignClient } from '../../src/client/index.js';
import { digestOf } from '../../src/core/canonical.js';
import { toolCallChecker, type ToolCallCheck } from '../../src/mcp/check-tool-call.js';
import { query } from '../helpers/db.js';
import { decisionOf, HookProject } from '../helpers/hook.js';
import { approve, registerAgent, toolRequests } from '../helpers/mcp-gating.js';
import { TestServer } from '../helpers/server.js';

/**
 * `countersign/agent` asked in-process, and the Claude Code hook example built on it run
 * as Claude Code runs it, both against a real server with the dev principal
 * `mcp-gateway` as requester and executor. Each call's arguments are pinned by digest.
 */

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start();
}, 60_000);
afterAll(async () => s?.stop());

const ARGS = { sql: 'select * from orders where id = 7' };
const TARGET = 'orders-db:query';
const REQUEST_ID = /request (sha256:[0-9a-f]{64})/;

const fulfilmentsOf = (requestId: string) =>
  query<{ target: string; outcome: string }>(
    s.dataDir,
    'select target, outcome from fulfilments where request_id = ?',
    requestId,
  );

describe('toolCallChecker', () => {
  let checker: ReturnType<typeof toolCallChecker>;
  let requestId: string;
  let allowed: Extract<ToolCallCheck, { allowed: true }>;
  beforeAll(async () => {
    const subject = await registerAgent(s);
    checker = toolCallChecker({
      addr: s.url,
      token: s.tokens['mcp-gateway'],
      config: {
        server: 'orders-db',
        environment: 'staging',
        subject,
        executor: 'mcp-gateway',
        gated: ['query'],
      },
    });
  });

  it('lets a tool the config leaves ungated through, without a warrant', async () => {
    const check = await checker.check({ server: 'orders-db', tool: 'ping' });
    expect(check).toMatchObject({ allowed: true, gated: false, receipt: undefined });
  });

  it('refuses a gated call without a warrant with APPROVAL_REQUIRED, naming the request it filed', async () => {
    const check = await checker.check({ server: 'orders-db', tool: 'query', arguments: ARGS });
    expect(check).toMatchObject({ allowed: false, code: 'APPROVAL_REQUIRED' });
    if (check.allowed) throw new Error('allowed');
    expect(check.request).toMatchObject({ state: 'pending', approvals: 0, requiredApprovals: 2 });
    requestId = check.request?.id ?? '';
    expect(check.message).toContain(requestId);
  });

  it('allows the call once bob and carol approve, with a receipt the client verifies', async () => {
    await approve(s, requestId);
    const check = await checker.check({ server: 'orders-db', tool: 'query', arguments: ARGS });
    if (!check.allowed) throw new Error(check.message);
    allowed = check;
    expect(check).toMatchObject({ gated: true, target: TARGET });
    const claims = await new CountersignClient({ baseUrl: s.url }).verifyReceipt(
      check.receipt ?? '',
    );
    expect(claims.request_id).toBe(requestId);
    expect(claims.action.tool).toMatchObject({
      server: 'orders-db',
      name: 'query',
      argumentsDigest: digestOf(ARGS),
    });
  });

  it('records a success fulfilment of the target when the call is reported', async () => {
    await allowed.report('success');
    expect(fulfilmentsOf(requestId)).toEqual([{ target: TARGET, outcome: 'success' }]);
  });

  it('refuses a call to another server with TOOL_MISMATCH', async () => {
    const check = await checker.check({ server: 'billing-db', tool: 'query', arguments: ARGS });
    expect(check).toMatchObject({ allowed: false, code: 'TOOL_MISMATCH' });
  });
});

describe('the Claude Code hook example', () => {
  let project: HookProject;
  let subject: string;
  beforeAll(async () => {
    subject = await registerAgent(s);
    const yaml = [
      'server: orders-db',
      'environment: staging',
      `subject: ${subject}`,
      'executor: mcp-gateway',
      'gated: [query]',
    ];
    project = new HookProject(s, yaml.join('\n') + '\n');
  });
  afterAll(() => project?.remove());

  const event = (name: 'PreToolUse' | 'PostToolUse', args = ARGS, toolUseId = 'toolu_1') => ({
    hook_event_name: name,
    tool_name: 'mcp__orders-db__query',
    tool_input: args,
    tool_use_id: toolUseId,
  });
  let requestId: string;

  it('denies a call before approval, with a reason naming the request it filed', async () => {
    const r = await project.run(event('PreToolUse'));
    expect(r.code, r.stderr).toBe(0);
    const decision = decisionOf(r);
    expect(decision?.permissionDecision).toBe('deny');
    requestId = REQUEST_ID.exec(decision?.permissionDecisionReason ?? '')?.[1] ?? '';
    expect((await toolRequests(s, subject)).map((q) => q.id)).toEqual([requestId]);
  });

  it('allows the call once approved, and keeps its receipt for PostToolUse', async () => {
    await approve(s, requestId);
    const r = await project.run(event('PreToolUse'));
    expect(decisionOf(r)?.permissionDecision, r.stderr).toBe('allow');
    expect(existsSync(project.stateFile('toolu_1'))).toBe(true);
  });

  it('records a success fulfilment on PostToolUse, and removes the state file', async () => {
    const r = await project.run({ ...event('PostToolUse'), tool_response: { content: [] } });
    expect(r.code, r.stderr).toBe(0);
    expect(fulfilmentsOf(requestId)).toEqual([{ target: TARGET, outcome: 'success' }]);
    expect(existsSync(project.stateFile('toolu_1'))).toBe(false);
  });

  it('has no opinion on a tool of another server: no output, exit 0', async () => {
    const r = await project.run({ ...event('PreToolUse'), tool_name: 'mcp__other__x' });
    expect(r).toMatchObject({ code: 0, stdout: '' });
  });

  it('leaves a tool its config does not gate to Claude Code: no output, exit 0', async () => {
    const r = await project.run({ ...event('PreToolUse'), tool_name: 'mcp__orders-db__ping' });
    expect(r).toMatchObject({ code: 0, stdout: '' });
  });

  it('files one request for a call however often the agent retries it before approval', async () => {
    const args = { sql: 'select count(*) from orders' };
    for (const id of ['toolu_2', 'toolu_3']) {
      expect(decisionOf(await project.run(event('PreToolUse', args, id)))?.permissionDecision).toBe(
        'deny',
      );
    }
    expect((await toolRequests(s, subject)).filter((q) => q.state === 'pending')).toHaveLength(1);
  });

  it('denies a call of its server rather than failing open when its config is unreadable', async () => {
    const r = await project.run(event('PreToolUse'), {
      COUNTERSIGN_GATEWAY_CONFIG: `${project.dir}/missing.yaml`,
    });
    expect(r.code === 2 || decisionOf(r)?.permissionDecision === 'deny', r.stderr).toBe(true);
  });
});
