import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/canonical.js';
import { uniqueNhi } from '../helpers/chain.js';
import { requestCreateArgs } from '../helpers/cli-args.js';
import { TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start();
});
afterAll(async () => {
  await s.stop();
});

describe('countersign request show', () => {
  describe('when an approver reads a pending prod request in text mode', () => {
    let subject: string;
    let id: string;
    let text: string;
    let body: Record<string, unknown>;
    beforeAll(async () => {
      subject = uniqueNhi();
      const nhi = await s.cli(
        ['nhi', 'add', '--id', subject, '--kind', 'ai_agent', '--owner', 'team-data'],
        'admin',
      );
      expect(nhi.code, nhi.stderr).toBe(0);
      const created = await s.cli(
        requestCreateArgs(subject, {
          scope: ['db/orders=read,write', 'db/invoices=read'],
          env: 'prod',
          target: ['eu', 'us'],
          duration: '2h',
          'max-uses': '3',
          reason: 'INC-4312 backfill\u001b[2K',
          ticket: 'INC-4312',
        }),
        'alice',
      );
      expect(created.code, created.stderr).toBe(0);
      id = created.stdout.trim();
      expect((await s.cli(['approve', id, '--reason', 'diff reviewed'], 'bob')).code).toBe(0);
      const shown = await s.cli(['request', 'show', id], 'carol');
      expect(shown.code, shown.stderr).toBe(0);
      text = shown.stdout;
      body = (await s.http('GET', `/v1/requests/${id}`, { as: 'audra' })).body.body;
    });

    const line = (name: string): string => {
      const found = text.split('\n').find((l) => l.startsWith(name.padEnd(15)));
      expect(found, `no "${name}" line in:\n${text}`).toBeDefined();
      return found!.slice(15);
    };

    it('shows the id, the state and the approvals so far', () => {
      expect(line('request')).toBe(id);
      expect(line('state')).toBe('pending (1 of 2 approvals)');
      expect(line('warrant')).toBe('-');
      expect(text).toMatch(/\ndecisions {6}approve {2}bob {2}\S+Z {2}diff reviewed/);
    });

    it('shows the scope as a table, one row per resource', () => {
      const at = text.indexOf('scope');
      expect(text.slice(at).split('\n').slice(0, 3)).toEqual([
        'scope          RESOURCE     PERMISSIONS',
        '               db/orders    read, write',
        '               db/invoices  read',
      ]);
    });

    it('shows the subject, action, environment, targets, window, executor and uses', () => {
      expect(line('subject')).toBe(`${subject} (ai_agent, owner team-data)`);
      expect(line('action')).toBe('grant');
      expect(line('environment')).toBe('prod');
      expect(line('targets')).toBe('eu, us');
      expect(line('window')).toBe('2h from approval');
      expect(line('executor')).toBe('principal deploy-eu');
      expect(line('max uses')).toBe('3');
    });

    it('shows the reason quoted when it holds a control character, and the ticket', () => {
      expect(line('reason')).toBe('"INC-4312 backfill\\u001b[2K"');
      expect(text).not.toContain('\u001b');
      expect(line('ticket')).toBe('INC-4312');
      expect(line('requester')).toBe(`alice at ${String(body.createdAt)}`);
    });

    it('shows the policy rule and digest the request was pinned to', () => {
      const policy = body.policy as { rule: string; version: string };
      expect(policy.version).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(line('policy')).toBe(`rule prod, ${policy.version}`);
      expect(text).toContain(
        "2 approval(s) from sre; the subject's owner may not approve; the requester may not execute",
      );
    });

    it('keeps --json as the request itself', async () => {
      const json = await s.cli(['--json', 'request', 'show', id], 'carol');
      expect(JSON.parse(json.stdout).body).toEqual(body);
    });
  });
});

describe('countersign request create --tool', () => {
  describe("when a requester asks for an agent's session of tool calls from the CLI", () => {
    let subject: string;
    let id: string;
    beforeAll(async () => {
      subject = uniqueNhi();
      const nhi = await s.cli(
        ['nhi', 'add', '--id', subject, '--kind', 'ai_agent', '--owner', 'team-data'],
        'admin',
      );
      expect(nhi.code, nhi.stderr).toBe(0);
      const created = await s.cli(
        requestCreateArgs(subject, {
          action: 'tool_call',
          tool: 'orders-db/query',
          scope: ['db/orders=read', 'db/invoices=read'],
          constraint: ['table=orders,invoices'],
          env: 'staging',
          target: ['orders-db:query'],
          executor: 'mcp-gateway',
          duration: '2h',
          'max-uses': '20',
          reason: 'reconcile orders against invoices',
        }),
        'alice',
      );
      expect(created.code, created.stderr).toBe(0);
      id = created.stdout.trim();
    });

    it('shows the tool and the argument constraints of each scope entry', async () => {
      const shown = await s.cli(['request', 'show', id], 'bob');
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain('tool           query on MCP server orders-db');
      expect(shown.stdout).toContain('any arguments the scope allows');
      expect(shown.stdout).toMatch(/db\/orders\s+read\s+table ∈ \{"invoices", "orders"\}/);
    });

    it('lists it among the tool_call requests for its subject', async () => {
      const listed = await s.cli(
        ['--json', 'request', 'list', '--subject', subject, '--action', 'tool_call'],
        'bob',
      );
      expect(listed.code, listed.stderr).toBe(0);
      const ids = (JSON.parse(listed.stdout) as { requests: { id: string }[] }).requests.map(
        (r) => r.id,
      );
      expect(ids).toEqual([id]);
    });
  });

  describe('when the exact arguments are pinned', () => {
    /** Registers a fresh agent and files a drop_table call for it with these arguments. */
    const fileDropTable = async (toolArgs: string, over: Record<string, string> = {}) => {
      const subject = uniqueNhi();
      await s.cli(
        ['nhi', 'add', '--id', subject, '--kind', 'ai_agent', '--owner', 'team-data'],
        'admin',
      );
      const out = await s.cli(
        requestCreateArgs(subject, {
          action: 'tool_call',
          tool: 'orders-db/drop_table',
          'tool-args': toolArgs,
          scope: ['mcp/orders-db/drop_table=call'],
          env: 'staging',
          duration: '1h',
          reason: 'x',
          ...over,
        }),
        'alice',
      );
      return { subject, out };
    };

    it('hashes the arguments it shows the approvers', async () => {
      const { out: created } = await fileDropTable('{"table":"orders"}', {
        executor: 'mcp-gateway',
        reason: 'retire the old orders table',
      });
      expect(created.code, created.stderr).toBe(0);
      const shown = await s.cli(['request', 'show', created.stdout.trim()], 'bob');
      expect(shown.stdout).toContain(`exactly the arguments ${digestOf({ table: 'orders' })}`);
      expect(shown.stdout).toContain('{"table":"orders"}');
    });

    it('refuses --tool-args that are not JSON as a usage error', async () => {
      const r = await s.cli(
        requestCreateArgs(uniqueNhi(), {
          action: 'tool_call',
          tool: 'orders-db/drop_table',
          'tool-args': '{table: orders}',
          scope: ['mcp/orders-db/drop_table=call'],
          env: 'staging',
          duration: '1h',
          reason: 'x',
        }),
        'alice',
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--tool-args: not JSON');
    });

    it('refuses --tool-args that name a key twice, which JSON.parse would read as the last', async () => {
      const { subject, out: r } = await fileDropTable('{"table":"orders","table":"users"}');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--tool-args: not JSON (duplicate key "table")');
      const filed = await s.http('GET', `/v1/requests?subject=${encodeURIComponent(subject)}`, {
        as: 'alice',
      });
      expect(filed.body).toMatchObject({ requests: [] });
    });
  });
});
