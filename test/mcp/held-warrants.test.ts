import { describe, expect, it } from 'vitest';
import type { WarrantView } from '../../src/client/types.js';
import { digestOf } from '../../src/core/canonical.js';
import type { Scope } from '../../src/core/scope.js';
import { mapCall, type MappedCall } from '../../src/mcp/call-mapping.js';
import { gatingConfigOf } from '../../src/mcp/gating-config.js';
import {
  covers,
  heldWarrantOf,
  HeldWarrants,
  type HeldWarrant,
} from '../../src/mcp/held-warrants.js';

/**
 * The gateway only decodes a held warrant to choose what to present (the server verifies
 * it), so these tokens are JWT-shaped and unsigned.
 */

const config = gatingConfigOf(
  {
    server: 'orders-db',
    environment: 'staging',
    subject: 'agent:ops-bot',
    executor: 'mcp-gateway',
    tools: { query: { resource: 'db/{table}', permission: 'read' } },
  },
  'test',
);

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const HOUR = 3_600_000;
const ARGS = { table: 'orders', sql: 'select 1' };

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const tokenOf = (claims: Record<string, unknown>) =>
  `${b64({ alg: 'EdDSA', typ: 'JWT' })}.${b64(claims)}.${Buffer.from('sig').toString('base64url')}`;

/** Claims of a session on db/orders and db/invoices for the agent's query, unless overridden. */
function claimsOf(o: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: 'https://countersign.test',
    jti: 'w-1',
    sub: 'agent:ops-bot',
    iat: T0 / 1000,
    nbf: T0 / 1000,
    exp: (T0 + HOUR) / 1000,
    request_id: 'sha256:' + '0'.repeat(64),
    action: 'tool_call',
    tool: { server: 'orders-db', name: 'query' },
    environment: 'staging',
    scope: [
      { resource: 'db/orders', permissions: ['read'] },
      { resource: 'db/invoices', permissions: ['read'] },
    ] satisfies Scope,
    targets: ['orders-db:query'],
    executor: { kind: 'principal', principal: 'mcp-gateway' },
    max_uses: 5,
    approvals: [],
    policy_version: 'sha256:' + '1'.repeat(64),
    ...o,
  };
}

let counter = 0;
function viewOf(
  claims: Record<string, unknown>,
  window: { from?: number; to?: number } = {},
): WarrantView {
  counter += 1;
  return {
    warrantId: `w-${counter}`,
    requestId: `r-${counter}`,
    token: tokenOf(claims),
    state: 'active',
    uses: 0,
    maxUses: 5,
    notBefore: new Date(window.from ?? T0).toISOString(),
    notAfter: new Date(window.to ?? T0 + HOUR).toISOString(),
  };
}

function held(claims: Record<string, unknown> = {}, window?: { from?: number; to?: number }) {
  const w = heldWarrantOf(viewOf(claimsOf(claims), window), config);
  if (w === undefined) throw new Error('not held');
  return w;
}

function callOf(args: Record<string, unknown> = ARGS, tool = 'query'): MappedCall {
  const m = mapCall(config, config.ruleFor(tool)!, tool, args);
  if (m.kind !== 'mapped') throw new Error(m.reason);
  return m.call;
}

describe('heldWarrantOf', () => {
  describe("when the view carries one of this gateway's tool-call warrants", () => {
    it('holds it with its exact window in milliseconds', () => {
      const view = viewOf(claimsOf(), { from: T0 + 1, to: T0 + HOUR - 1 });
      const w = heldWarrantOf(view, config);
      expect(w).toMatchObject({
        requestId: view.requestId,
        warrantId: view.warrantId,
        token: view.token,
        notBefore: T0 + 1,
        notAfter: T0 + HOUR - 1,
      });
      expect(w?.claims.sub).toBe('agent:ops-bot');
    });
  });

  describe('when the view carries something else', () => {
    it('holds no token that is not a JWT', () => {
      for (const token of ['not-a-jwt', 'a.b.c', `${b64({})}.${b64('text')}.sig`, '']) {
        expect(heldWarrantOf({ ...viewOf(claimsOf()), token }, config)).toBeUndefined();
      }
    });

    it("holds no warrant for another subject or another server's tool", () => {
      expect(heldWarrantOf(viewOf(claimsOf({ sub: 'agent:other' })), config)).toBeUndefined();
      const billing = claimsOf({ tool: { server: 'billing-db', name: 'query' } });
      expect(heldWarrantOf(viewOf(billing), config)).toBeUndefined();
    });

    it('holds no warrant that approves no tool call, or lacks what choosing needs', () => {
      expect(heldWarrantOf(viewOf(claimsOf({ tool: undefined })), config)).toBeUndefined();
      expect(heldWarrantOf(viewOf(claimsOf({ scope: 'db/orders' })), config)).toBeUndefined();
      expect(heldWarrantOf(viewOf(claimsOf({ iat: '1' })), config)).toBeUndefined();
    });
  });
});

describe('covers', () => {
  describe('when the call is inside the warrant', () => {
    it('covers it from the first millisecond of the window to the last', () => {
      const w = held();
      expect(covers(w, config, callOf(), T0)).toBe(true);
      expect(covers(w, config, callOf(), T0 + HOUR - 1)).toBe(true);
    });
  });

  describe('when the window is not open', () => {
    it('covers nothing before it opens or once it has closed', () => {
      const w = held();
      expect(covers(w, config, callOf(), T0 - 1)).toBe(false);
      expect(covers(w, config, callOf(), T0 + HOUR)).toBe(false);
    });

    it('reads the exact window of the view, not the rounded seconds of the claims', () => {
      const w = held({}, { from: T0 + 500, to: T0 + 1500 });
      expect(covers(w, config, callOf(), T0 + 499)).toBe(false);
      expect(covers(w, config, callOf(), T0 + 1500)).toBe(false);
    });
  });

  describe('when the warrant is for another environment', () => {
    it('covers nothing', () => {
      expect(covers(held({ environment: 'prod' }), config, callOf(), T0)).toBe(false);
    });
  });

  describe('when the warrant names targets', () => {
    it('covers only a call whose target it names, and any call when it names none', () => {
      expect(covers(held({ targets: ['orders-db:other'] }), config, callOf(), T0)).toBe(false);
      expect(covers(held({ targets: [] }), config, callOf(), T0)).toBe(true);
    });
  });

  describe('when the call lies outside the scope', () => {
    it('covers neither another resource nor another permission', () => {
      expect(covers(held(), config, callOf({ table: 'customers' }), T0)).toBe(false);
      const write = [{ resource: 'db/orders', permissions: ['write'] }];
      expect(covers(held({ scope: write }), config, callOf(), T0)).toBe(false);
    });
  });

  describe('when the scope constrains arguments', () => {
    const scope = [
      { resource: 'db/*', permissions: ['read'], constraints: { table: { in: ['orders'] } } },
    ];

    it('covers the values it lists, and not others', () => {
      const w = held({ scope });
      expect(covers(w, config, callOf(), T0)).toBe(true);
      expect(covers(w, config, callOf({ table: 'invoices', sql: 'x' }), T0)).toBe(false);
    });
  });

  describe('when the warrant pins the arguments', () => {
    const pinned = {
      tool: { server: 'orders-db', name: 'query', argumentsDigest: digestOf(ARGS) },
    };

    it('covers exactly those arguments', () => {
      expect(covers(held(pinned), config, callOf(), T0)).toBe(true);
      expect(covers(held(pinned), config, callOf({ ...ARGS, sql: 'select 2' }), T0)).toBe(false);
    });
  });

  describe('when the warrant approves another tool', () => {
    it('covers nothing of this one', () => {
      const other = { tool: { server: 'orders-db', name: 'drop_table' } };
      expect(covers(held(other), config, callOf(), T0)).toBe(false);
    });
  });
});

describe('HeldWarrants.choose', () => {
  const all = (...ws: HeldWarrant[]) => {
    const h = new HeldWarrants();
    ws.forEach((w) => h.add(w));
    return h;
  };

  describe('when several warrants cover the call', () => {
    it('chooses the one that closes soonest', () => {
      const long = held({}, { to: T0 + 3 * HOUR });
      const soon = held({}, { to: T0 + HOUR });
      const middle = held({}, { to: T0 + 2 * HOUR });
      expect(all(long, soon, middle).choose(config, callOf(), T0)).toEqual({
        warrant: soon,
        covers: true,
      });
    });

    it('prefers a covering warrant to a newer one that does not cover', () => {
      const covering = held({ iat: T0 / 1000 });
      const newer = held({ iat: T0 / 1000 + 60, environment: 'prod' });
      expect(all(newer, covering).choose(config, callOf(), T0)).toEqual({
        warrant: covering,
        covers: true,
      });
    });
  });

  describe('when none covers the call', () => {
    it('chooses the latest issued for the same tool, for the server to refuse', () => {
      const older = held({ iat: T0 / 1000 - 60 });
      const latest = held({ iat: T0 / 1000 });
      const otherTool = held({
        iat: T0 / 1000 + 60,
        tool: { server: 'orders-db', name: 'drop_table' },
      });
      const call = callOf({ table: 'customers' });
      expect(all(older, otherTool, latest).choose(config, call, T0)).toEqual({
        warrant: latest,
        covers: false,
      });
    });

    it('chooses a closed one too, whose expiry the server then records', () => {
      const closed = held({}, { to: T0 + HOUR });
      expect(all(closed).choose(config, callOf(), T0 + HOUR)).toEqual({
        warrant: closed,
        covers: false,
      });
    });
  });

  describe('when no warrant is for the tool', () => {
    it('chooses none', () => {
      expect(new HeldWarrants().choose(config, callOf(), T0)).toBeUndefined();
      const other = held({ tool: { server: 'orders-db', name: 'drop_table' } });
      expect(all(other).choose(config, callOf(), T0)).toBeUndefined();
    });
  });

  describe('when a warrant is dropped', () => {
    it('is no longer held or chosen', () => {
      const w = held();
      const h = all(w);
      expect(h.has(w.warrantId)).toBe(true);
      h.drop(w.warrantId);
      expect(h.has(w.warrantId)).toBe(false);
      expect(h.choose(config, callOf(), T0)).toBeUndefined();
    });
  });
});
