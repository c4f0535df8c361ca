import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/canonical.js';
import { query } from '../helpers/db.js';
import {
  approve,
  gatedAgent,
  refusalOf,
  registerAgent,
  toolRequests,
  type GatedAgent,
  type Transport,
} from '../helpers/mcp-gating.js';
import { TestServer } from '../helpers/server.js';

/**
 * A real SDK client (the agent) calls the fixture upstream through `countersign
 * mcp-gateway`, which asks a real countersign server for every gated call. The
 * upstream's own counter shows what reached it.
 */

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start();
}, 60_000);
afterAll(async () => s?.stop());

/** query is approved per session: ten calls over two hours, on the orders and invoices tables. */
const SESSION_TOOLS = {
  query: {
    resource: 'db/{table}',
    permission: 'read',
    session: { maxUses: 10, duration: '2h', constraints: { table: ['orders', 'invoices'] } },
  },
};

const GATED = ['query', 'drop_table', 'wait'];

/** The fulfilments of a request, once `count` have arrived (reports follow the answers). */
async function fulfilmentsOf(requestId: string, count: number) {
  let rows: { target: string; outcome: string; fingerprint: string }[] = [];
  for (let i = 0; i < 100 && rows.length < count; i++) {
    if (i > 0) await sleep(100);
    rows = query(
      s.dataDir,
      'select target, outcome, fingerprint from fulfilments where request_id = ? order by at',
      requestId,
    );
  }
  return rows;
}

async function withAgent(
  o: Parameters<typeof gatedAgent>[1],
  body: (a: GatedAgent) => Promise<void>,
): Promise<void> {
  const a = await gatedAgent(s, o);
  try {
    await body(a);
  } finally {
    await a.close();
  }
}

describe.each<Transport>(['stdio', 'http'])('an agent behind the gateway, over %s', (transport) => {
  it('calls the ungated ping straight through', async () => {
    await withAgent({ transport, gated: GATED }, async (a) => {
      const answer = await a.call('ping');
      expect(answer.isError).toBeFalsy();
      expect(answer._meta?.['countersign/receipt']).toBeUndefined();
      expect(a.counter.read().calls).toEqual({ ping: 1 });
    });
  });

  it('asks for approval once for a query without a warrant, and never forwards it', async () => {
    await withAgent({ transport, gated: GATED, tools: SESSION_TOOLS }, async (a) => {
      const first = await a.call('query', { table: 'orders', sql: 'select 1' });
      const again = await a.call('query', { table: 'invoices', sql: 'select 2' });
      for (const answer of [first, again]) {
        expect(answer.isError).toBe(true);
        expect(refusalOf(answer)).toBe('APPROVAL_REQUIRED');
        expect(answer.content[0]?.text).toMatch(
          /^approval needed: request sha256:[0-9a-f]{64} \(0 of 2 approvals\), retry after approval: http/,
        );
      }
      expect(await toolRequests(s, a.subject)).toHaveLength(1);
      expect(a.counter.read().calls.query ?? 0).toBe(0);
    });
  });

  it('forwards query(orders) and query(invoices) with receipts after two approvals, and refuses customers', async () => {
    await withAgent({ transport, gated: GATED, tools: SESSION_TOOLS }, async (a) => {
      const asked = await a.call('query', { table: 'orders', sql: 'select 1' });
      const requestId = asked._meta?.['countersign/refusal']?.request?.id ?? '';
      await approve(s, requestId);

      for (const table of ['orders', 'invoices']) {
        const args = { table, sql: `select * from ${table}` };
        const answer = await a.call('query', args);
        expect(answer.isError).toBeFalsy();
        expect(answer.content[0]?.text).toBe(`0 rows from ${table}`);
        const receipt = answer._meta?.['countersign/receipt'];
        expect(receipt?.maxUses).toBe(10);
        const claims = decodeJwt(receipt?.receipt ?? '');
        expect(claims.sub).toBe(a.subject);
        expect(claims.action).toMatchObject({
          resource: `db/${table}`,
          tool: {
            agent: a.subject,
            server: 'orders-db',
            name: 'query',
            argumentsDigest: digestOf(args),
          },
        });
      }
      const refused = await a.call('query', { table: 'customers', sql: 'select 1' });
      expect(refused.isError).toBe(true);
      expect(refusalOf(refused)).toBe('SCOPE_EXCEEDED');
      expect(a.counter.read().calls.query).toBe(2);
      // Each forwarded call is reported against the tool call's target, with its digest.
      const reported = await fulfilmentsOf(requestId, 2);
      expect(reported).toEqual(
        ['orders', 'invoices'].map((table) => ({
          target: 'orders-db:query',
          outcome: 'success',
          fingerprint: digestOf({ table, sql: `select * from ${table}` }),
        })),
      );
    });
  });
});

describe('a warrant an approver grants the agent directly', () => {
  /** A tool_call session on db/orders and db/invoices, requested by alice for the agent. */
  async function grantTables(subject: string, maxUses: number): Promise<string> {
    const r = await s.http('POST', '/v1/requests', {
      as: 'alice',
      body: {
        subject,
        action: 'tool_call',
        tool: { server: 'orders-db', name: 'query' },
        scope: [
          { resource: 'db/orders', permissions: ['read'] },
          { resource: 'db/invoices', permissions: ['read'] },
        ],
        environment: 'staging',
        targets: ['orders-db:query'],
        executor: { principal: 'mcp-gateway' },
        duration: '2h',
        maxUses,
        reason: 'the agent reconciles orders against invoices',
      },
    });
    if (r.status !== 201) throw new Error(r.text);
    const id = (r.body as { id: string }).id;
    await approve(s, id);
    return id;
  }

  const TABLE_TOOLS = { query: { resource: 'db/{table}', permission: 'read' } };

  it('is picked up by the gateway, and the server records the refusal of a third table', async () => {
    const subject = await registerAgent(s);
    const requestId = await grantTables(subject, 5);
    await withAgent({ subject, gated: GATED, tools: TABLE_TOOLS }, async (a) => {
      expect((await a.call('query', { table: 'orders', sql: 'select 1' })).isError).toBeFalsy();
      const refused = await a.call('query', { table: 'customers', sql: 'select 1' });
      expect(refusalOf(refused)).toBe('SCOPE_EXCEEDED');
      expect(a.counter.read().calls.query).toBe(1);
    });
    const denials = query<{ code: string }>(
      s.dataDir,
      'select r.code from redemptions r join requests q on q.warrant_id = r.warrant_id ' +
        "where q.id = ? and r.outcome = 'deny'",
      requestId,
    );
    expect(denials).toEqual([{ code: 'SCOPE_EXCEEDED' }]);
  });

  it('forwards exactly 10 of 100 parallel calls against a warrant with 10 uses', async () => {
    const subject = await registerAgent(s);
    await grantTables(subject, 10);
    await withAgent({ subject, gated: GATED, tools: TABLE_TOOLS }, async (a) => {
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          a.call('query', { table: i % 2 ? 'orders' : 'invoices', sql: `select ${i}` }),
        ),
      );
      expect(answers.filter((x) => !x.isError)).toHaveLength(10);
      // A call that arrives after the spent warrant was let go finds none to present.
      const codes = answers.filter((x) => x.isError).map(refusalOf);
      expect(codes).toContain('WARRANT_EXHAUSTED');
      expect(new Set(codes)).toEqual(
        new Set(codes.filter((c) => c === 'WARRANT_EXHAUSTED' || c === 'APPROVAL_REQUIRED')),
      );
      expect(a.counter.read().calls.query).toBe(10);
    });
  }, 60_000);

  it('cannot be spent by a second gateway acting for another agent', async () => {
    const subject = await registerAgent(s);
    await grantTables(subject, 5);
    await withAgent({ gated: GATED, tools: TABLE_TOOLS }, async (other) => {
      const answer = await other.call('query', { table: 'orders', sql: 'select 1' });
      expect(refusalOf(answer)).toBe('APPROVAL_REQUIRED');
      expect(other.counter.read().calls.query ?? 0).toBe(0);
    });
  });
});

describe('a call whose arguments are pinned', () => {
  it('refuses arguments changed after approval with ARGUMENTS_MISMATCH', async () => {
    await withAgent({ gated: GATED }, async (a) => {
      const asked = await a.call('drop_table', { table: 'orders' });
      expect(refusalOf(asked)).toBe('APPROVAL_REQUIRED');
      await approve(s, asked._meta?.['countersign/refusal']?.request?.id ?? '');
      const changed = await a.call('drop_table', { table: 'invoices' });
      expect(refusalOf(changed)).toBe('ARGUMENTS_MISMATCH');
      expect(a.counter.read().calls.drop_table ?? 0).toBe(0);
      const approved = await a.call('drop_table', { table: 'orders' });
      expect(approved.isError).toBeFalsy();
      expect(a.counter.read().calls.drop_table).toBe(1);
    });
  });

  it('holds the call with --wait until the approvers decide, telling the agent as they do', async () => {
    await withAgent({ gated: GATED, wait: '60s' }, async (a) => {
      const call = a.client.callTool(
        { name: 'drop_table', arguments: { table: 'orders' } },
        { onprogress: () => undefined, timeout: 60_000 },
      );
      let requestId: string | undefined;
      while (requestId === undefined) {
        await sleep(100);
        requestId = (await toolRequests(s, a.subject))[0]?.id;
      }
      await approve(s, requestId);
      const answer = (await call) as { isError?: boolean };
      expect(answer.isError).toBeFalsy();
      expect(a.counter.read().calls.drop_table).toBe(1);
      expect(JSON.stringify(a.client.progress)).toContain('approval needed');
    });
  }, 60_000);

  it('reports a failed fulfilment when the upstream dies mid-call', async () => {
    const a = await gatedAgent(s, { gated: GATED });
    try {
      const args = { steps: 2000, intervalMs: 10 };
      const asked = await a.call('wait', args);
      const requestId = asked._meta?.['countersign/refusal']?.request?.id ?? '';
      await approve(s, requestId);
      const call = a.call('wait', args).catch((e: unknown) => e);
      while ((a.counter.read().calls.wait ?? 0) < 1) await sleep(50);
      process.kill(a.counter.read().pid, 'SIGKILL');
      expect(await call).toBeInstanceOf(Error);
      let rows: { outcome: string }[] = [];
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        await sleep(100);
        rows = query(s.dataDir, 'select outcome from fulfilments where request_id = ?', requestId);
      }
      expect(rows).toEqual([{ outcome: 'failure' }]);
    } finally {
      await a.close().catch(() => undefined);
    }
  }, 60_000);
});

describe('a warrant past its window or its uses', () => {
  let late: TestServer;
  beforeAll(async () => {
    late = await TestServer.start();
  }, 60_000);
  afterAll(async () => late?.stop());

  it('refuses the call after max uses, and after the window', async () => {
    const tools = {
      query: {
        resource: 'db/{table}',
        permission: 'read',
        session: { maxUses: 2, duration: '1h', constraints: { table: ['orders'] } },
      },
    };
    const a = await gatedAgent(late, { gated: GATED, tools });
    try {
      const args = { table: 'orders', sql: 'select 1' };
      await approve(
        late,
        (await a.call('query', args))._meta?.['countersign/refusal']?.request?.id ?? '',
      );
      expect((await a.call('query', args)).isError).toBeFalsy();
      expect((await a.call('query', args)).isError).toBeFalsy();
      expect(refusalOf(await a.call('query', args))).toBe('WARRANT_EXHAUSTED');

      // A new session, approved, then the clock passes its window.
      const asked = await a.call('query', args);
      await approve(late, asked._meta?.['countersign/refusal']?.request?.id ?? '');
      await late.advanceClock('2h');
      expect(refusalOf(await a.call('query', args))).toBe('WARRANT_EXPIRED');
      expect(a.counter.read().calls.query).toBe(2);
    } finally {
      await a.close();
    }
  }, 60_000);
});
