import { createServer } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignClient } from '../../src/client/index.js';
import type { WarrantClaims } from '../../src/client/types.js';
import { FiledRequests } from '../../src/mcp/approvals.js';
import { ToolCallAuthority, type Verdict } from '../../src/mcp/authority.js';
import {
  mapCall,
  pendingKeyOf,
  redemptionActionOf,
  requestInputOf,
  type MappedCall,
} from '../../src/mcp/call-mapping.js';
import { gatingConfigOf, type GatingConfig } from '../../src/mcp/gating-config.js';
import { uniqueNhi } from '../helpers/chain.js';
import { expectCodeAsync } from '../helpers/expect-code.js';
import { approve, registerAgent, toolRequests } from '../helpers/mcp-gating.js';
import { TestServer } from '../helpers/server.js';

/**
 * The authority in-process against a real server (`npm run build` first): what the
 * gateway end-to-end tests cannot reach from outside, such as the refusals of a server
 * that is gone, concurrency within one authority, and what it throws.
 */

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start();
}, 60_000);
afterAll(async () => s?.stop());

const ARGS = { table: 'orders', sql: 'select 1' };

function configFor(subject: string, tools: Record<string, unknown> = {}): GatingConfig {
  return gatingConfigOf(
    { server: 'orders-db', environment: 'staging', subject, executor: 'mcp-gateway', tools },
    'test',
  );
}

const clientOf = (baseUrl: string, token: string) =>
  new CountersignClient({ baseUrl, token, retry: { attempts: 1 } });

/** An authority for `subject`, redeeming as the dev principal mcp-gateway. */
function authorityFor(subject: string, tools?: Record<string, unknown>): ToolCallAuthority {
  return new ToolCallAuthority(clientOf(s.url, s.tokens['mcp-gateway']), configFor(subject, tools));
}

/** The refusal a verdict must be, or the test fails naming what it was. */
function refusal(v: Verdict) {
  if (v.kind !== 'refuse') throw new Error(`expected a refusal, got ${v.kind}`);
  return v;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

function mapped(config: GatingConfig, args: Record<string, unknown>): MappedCall {
  const m = mapCall(config, config.ruleFor('query')!, 'query', args);
  if (m.kind !== 'mapped') throw new Error(m.reason);
  return m.call;
}

describe('ToolCallAuthority', () => {
  describe('when the countersign server cannot be reached', () => {
    it('refuses the call with COUNTERSIGN_UNAVAILABLE, naming neither token nor arguments', async () => {
      const token = 'cs_dev_this-token-must-never-be-echoed';
      const authority = new ToolCallAuthority(
        clientOf(`http://127.0.0.1:${await closedPort()}`, token),
        configFor('agent:ops-bot'),
      );
      const v = refusal(await authority.check('query', { password: 'hunter2' }));
      expect(v).toEqual({
        kind: 'refuse',
        code: 'COUNTERSIGN_UNAVAILABLE',
        message: 'countersign could not be asked (CountersignClientError); the call was not made',
      });
      expect(JSON.stringify(v)).not.toContain(token);
      expect(JSON.stringify(v)).not.toContain('hunter2');
    });
  });

  describe("when the server refuses the gateway's credential", () => {
    it('refuses the call with COUNTERSIGN_UNAVAILABLE, naming the code and not the token', async () => {
      const token = 'cs_dev_not-a-token-the-server-knows';
      const authority = new ToolCallAuthority(clientOf(s.url, token), configFor('agent:ops-bot'));
      const v = refusal(await authority.check('query', ARGS));
      expect(v.code).toBe('COUNTERSIGN_UNAVAILABLE');
      expect(v.message).toMatch(/^countersign could not be asked \([A-Z_]+\)/);
      expect(v.message).not.toContain(token);
    });
  });

  describe('when the call is not gated', () => {
    it('answers ungated without asking the server', async () => {
      const authority = new ToolCallAuthority(
        clientOf(`http://127.0.0.1:${await closedPort()}`, 'unused'),
        gatingConfigOf(
          {
            server: 'orders-db',
            environment: 'staging',
            subject: 'agent:ops-bot',
            executor: 'mcp-gateway',
            gated: ['query'],
          },
          'test',
        ),
      );
      expect(await authority.check('ping', {})).toEqual({ kind: 'ungated' });
    });
  });

  describe('when the server will not file the request', () => {
    it('passes its code through (NHI_UNKNOWN for an unregistered agent), filing nothing', async () => {
      const subject = uniqueNhi('agent');
      const v = refusal(await authorityFor(subject).check('query', ARGS));
      expect(v.code).toBe('NHI_UNKNOWN');
      expect(v.message).toMatch(/^countersign would not file a request for this call: /);
      expect(v.request).toBeUndefined();
      expect(await toolRequests(s, subject)).toEqual([]);
    });

    it('asks again at the next call rather than repeating the refusal', async () => {
      const subject = uniqueNhi('agent');
      const authority = authorityFor(subject);
      expect(refusal(await authority.check('query', ARGS)).code).toBe('NHI_UNKNOWN');
      const r = await s.http('POST', '/v1/nhis', {
        as: 'admin',
        body: { id: subject, kind: 'ai_agent', owner: 'team-data' },
      });
      expect(r.status).toBe(201);
      expect(refusal(await authority.check('query', ARGS)).code).toBe('APPROVAL_REQUIRED');
      expect(await toolRequests(s, subject)).toHaveLength(1);
    });
  });

  describe('when 20 calls that one request would approve arrive at once', () => {
    it('files exactly one request, and every call names it', async () => {
      const subject = await registerAgent(s);
      const authority = authorityFor(subject);
      const verdicts = await Promise.all(
        Array.from({ length: 20 }, () => authority.check('query', ARGS)),
      );
      const requests = await toolRequests(s, subject);
      expect(requests).toHaveLength(1);
      for (const v of verdicts) {
        expect(refusal(v)).toMatchObject({
          code: 'APPROVAL_REQUIRED',
          request: { id: requests[0]?.id, state: 'pending', approvals: 0, requiredApprovals: 2 },
        });
      }
    });

    it('files one for a session, whichever of its tables each call names', async () => {
      const subject = await registerAgent(s);
      const authority = authorityFor(subject, {
        query: {
          resource: 'db/{table}',
          permission: 'read',
          session: { maxUses: 5, duration: '1h', constraints: { table: ['orders', 'invoices'] } },
        },
      });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          authority.check('query', { table: i % 2 ? 'orders' : 'invoices', sql: `select ${i}` }),
        ),
      );
      expect(await toolRequests(s, subject)).toHaveLength(1);
    });
  });

  describe("when the approved call's warrant is spent", () => {
    it('files a new request at the next call, naming the exhaustion', async () => {
      const subject = await registerAgent(s);
      const authority = authorityFor(subject);
      const first = refusal(await authority.check('query', ARGS)).request?.id ?? '';
      await approve(s, first);

      const allowed = await authority.check('query', ARGS);
      expect(allowed).toMatchObject({ kind: 'allow', requestId: first, use: 1, maxUses: 1 });

      const again = refusal(await authority.check('query', ARGS));
      expect(again.code).toBe('WARRANT_EXHAUSTED');
      expect(again.message).toMatch(/^refused \(WARRANT_EXHAUSTED\): .*approval needed: request /);
      expect(again.request?.id).not.toBe(first);
      expect(again.request?.state).toBe('pending');
      const states = (await toolRequests(s, subject)).map((r) => [r.id, r.state]);
      expect(states).toEqual([
        [again.request?.id, 'pending'],
        [first, 'exhausted'],
      ]);
    });
  });

  describe('when a call is held for approval and the agent gives up', () => {
    it('answers APPROVAL_REQUIRED as soon as its signal aborts, having told the agent', async () => {
      const subject = await registerAgent(s);
      const authority = new ToolCallAuthority(
        clientOf(s.url, s.tokens['mcp-gateway']),
        configFor(subject),
        { waitMs: 60_000, pollIntervalMs: 50 },
      );
      const abort = new AbortController();
      const told: string[] = [];
      const started = Date.now();
      const v = refusal(
        await authority.check('query', ARGS, {
          signal: abort.signal,
          progress: async (m) => {
            told.push(m);
            abort.abort();
          },
        }),
      );
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(v.code).toBe('APPROVAL_REQUIRED');
      expect(told).toEqual([expect.stringMatching(/^approval needed: request sha256:/)]);
    });
  });

  describe('when the arguments cannot be canonicalised', () => {
    it('throws NON_CANONICAL_VALUE for a lone surrogate or a non-finite number, asking nothing', async () => {
      const subject = await registerAgent(s);
      const authority = authorityFor(subject);
      await expectCodeAsync(
        () => authority.check('query', { sql: '\ud800' }),
        'NON_CANONICAL_VALUE',
      );
      await expectCodeAsync(
        () => authority.check('query', { n: Number.NaN }),
        'NON_CANONICAL_VALUE',
      );
      expect(await toolRequests(s, subject)).toEqual([]);
    });

    // RFC 8785 §3.2.2.3 writes -0 as 0: two different calls would share one digest.
    it('refuses -0 with NON_CANONICAL_VALUE, filing nothing', async () => {
      const subject = await registerAgent(s);
      const authority = authorityFor(subject);
      await expectCodeAsync(() => authority.check('query', { limit: -0 }), 'NON_CANONICAL_VALUE');
      expect(await toolRequests(s, subject)).toEqual([]);
    });
  });
});

describe('FiledRequests', () => {
  async function setUp() {
    const subject = await registerAgent(s);
    const client = clientOf(s.url, s.tokens['mcp-gateway']);
    const config = configFor(subject);
    const call = mapped(config, ARGS);
    const key = pendingKeyOf(config, call);
    const filed = new FiledRequests(client);
    const ensure = async () => (await filed.ensure(key, () => requestInputOf(config, call))).id;
    return { subject, client, config, call, filed, ensure };
  }

  describe('when a request for the key is still pending', () => {
    it('answers it again rather than filing another', async () => {
      const { subject, ensure } = await setUp();
      const id = await ensure();
      expect(await ensure()).toBe(id);
      expect(await toolRequests(s, subject)).toHaveLength(1);
    });
  });

  describe('when the request is retired', () => {
    it('files a new one for the key, though the old one still reads as pending', async () => {
      const { subject, filed, ensure } = await setUp();
      const old = await ensure();
      filed.retire(old);
      const fresh = await ensure();
      expect(fresh).not.toBe(old);
      expect((await toolRequests(s, subject)).map((r) => r.state)).toEqual(['pending', 'pending']);
    });

    it('ignores a request it never filed', async () => {
      const { filed, ensure } = await setUp();
      const id = await ensure();
      filed.retire('sha256:' + '0'.repeat(64));
      expect(await ensure()).toBe(id);
    });
  });

  describe('when the request was closed, replaced, and only then retired', () => {
    it('keeps the replacement', async () => {
      const { client, config, call, filed, ensure } = await setUp();
      const first = await ensure();
      await approve(s, first);
      const token = (await client.getWarrant(first)).token;
      const claims = decodeJwt(token) as unknown as WarrantClaims;
      await client.redeem({ warrant: token, action: redemptionActionOf(config, call, claims) });
      expect((await client.getRequest(first)).state).toBe('exhausted');

      const replacement = await ensure();
      expect(replacement).not.toBe(first);
      filed.retire(first);
      expect(await ensure()).toBe(replacement);
    });
  });
});
