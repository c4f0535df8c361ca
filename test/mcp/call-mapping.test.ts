import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/canonical.js';
import { normaliseScope, scopeAllows, type Scope } from '../../src/core/scope.js';
import { normaliseToolBinding } from '../../src/core/tool-binding.js';
import { CreateRequestBody, RedemptionBody } from '../../src/http/schemas.js';
import {
  mapCall,
  pendingKeyOf,
  redemptionActionOf,
  requestInputOf,
  type MappedCall,
} from '../../src/mcp/call-mapping.js';
import { gatingConfigOf, type GatingConfig } from '../../src/mcp/gating-config.js';
import { expectCode } from '../helpers/expect-code.js';

const BASE = {
  server: 'orders-db',
  environment: 'staging',
  subject: 'agent:ops-bot',
  executor: 'mcp-gateway',
};

const configOf = (o: Record<string, unknown> = {}): GatingConfig =>
  gatingConfigOf({ ...BASE, ...o }, 'test');

/** The call mapped under `config`; fails the test when it does not map. */
function mapped(config: GatingConfig, tool: string, args: Record<string, unknown>): MappedCall {
  const rule = config.ruleFor(tool);
  if (rule === undefined) throw new Error(`${tool} is ungated`);
  const m = mapCall(config, rule, tool, args);
  if (m.kind !== 'mapped') throw new Error(`${tool} did not map: ${m.reason}`);
  return m.call;
}

const mapping = (config: GatingConfig, tool: string, args: Record<string, unknown>) =>
  mapCall(config, config.ruleFor(tool)!, tool, args);

const SESSION = configOf({
  tools: {
    query: {
      resource: 'db/{table}',
      permission: 'read',
      session: { maxUses: 10, duration: '2h', constraints: { table: ['orders', 'invoices'] } },
    },
  },
});
const PINNED = configOf({
  tools: { query: { resource: 'db/{table}', permission: 'read', pin: ['table', 'limit'] } },
});
const ARGS = { table: 'orders', sql: 'select 1' };

describe('mapCall', () => {
  describe('when the tool has no rule of its own', () => {
    it('maps the call onto mcp/<server>/<tool>, the call itself as the target', () => {
      const call = mapped(configOf(), 'query', ARGS);
      expect(call).toMatchObject({
        tool: 'query',
        arguments: ARGS,
        argumentsDigest: digestOf(ARGS),
        resource: 'mcp/orders-db/query',
        permission: 'call',
        target: 'orders-db:query',
      });
    });

    it('writes a / in the tool name as . in the target, which names cannot hold /', () => {
      expect(mapped(configOf(), 'fs/read', {}).target).toBe('orders-db:fs.read');
    });
  });

  describe('when the rule names a target', () => {
    it('uses it', () => {
      const config = configOf({ tools: { query: { target: 'orders-db:primary' } } });
      expect(mapped(config, 'query', ARGS).target).toBe('orders-db:primary');
    });
  });

  describe('when the arguments name no resource', () => {
    it('answers ARGUMENTS_UNMAPPABLE with the template problem', () => {
      const config = configOf({ tools: { query: { resource: 'db/{table}' } } });
      expect(mapping(config, 'query', { sql: 'select 1' })).toEqual({
        kind: 'unmappable',
        code: 'ARGUMENTS_UNMAPPABLE',
        reason: 'argument table must be a string naming the resource (db/{table})',
      });
      expect(mapping(config, 'query', { table: '..' })).toMatchObject({
        code: 'ARGUMENTS_UNMAPPABLE',
      });
    });
  });

  describe('when the rule pins arguments by name', () => {
    it('maps scalars', () => {
      for (const limit of [10, 'ten', false]) {
        expect(mapping(PINNED, 'query', { table: 'orders', limit }).kind).toBe('mapped');
      }
    });

    it('answers ARGUMENTS_UNMAPPABLE for a pinned argument that is missing or not a scalar', () => {
      for (const limit of [undefined, null, [10], { n: 10 }]) {
        const args = limit === undefined ? { table: 'orders' } : { table: 'orders', limit };
        expect(mapping(PINNED, 'query', args)).toEqual({
          kind: 'unmappable',
          code: 'ARGUMENTS_UNMAPPABLE',
          reason: 'pinned argument limit must be a string, number or boolean',
        });
      }
    });
  });

  describe('when the rule asks for sessions with constraints', () => {
    it('maps the values the sessions may approve', () => {
      expect(mapped(SESSION, 'query', { table: 'invoices', sql: 'x' }).resource).toBe(
        'db/invoices',
      );
    });

    it('answers SCOPE_EXCEEDED for a value outside them', () => {
      expect(mapping(SESSION, 'query', { table: 'customers' })).toEqual({
        kind: 'outside',
        code: 'SCOPE_EXCEEDED',
        reason: 'argument table lies outside what sessions of query may approve',
      });
    });

    it('answers SCOPE_EXCEEDED for a constrained argument the call leaves out', () => {
      const config = configOf({
        tools: {
          query: { session: { maxUses: 1, duration: '1h', constraints: { table: ['orders'] } } },
        },
      });
      expect(mapping(config, 'query', { table: 'orders' }).kind).toBe('mapped');
      expect(mapping(config, 'query', { sql: 'select 1' })).toMatchObject({
        code: 'SCOPE_EXCEEDED',
      });
    });

    it('compares by type: 7 is not "7"', () => {
      const config = configOf({
        tools: {
          get: {
            resource: 'db/{id}',
            session: { maxUses: 1, duration: '1h', constraints: { id: ['7'] } },
          },
        },
      });
      expect(mapping(config, 'get', { id: '7' }).kind).toBe('mapped');
      expect(mapping(config, 'get', { id: 7 })).toMatchObject({ code: 'SCOPE_EXCEEDED' });
    });
  });

  describe('when the arguments cannot be canonicalised', () => {
    it('throws NON_CANONICAL_VALUE', () => {
      expectCode(() => mapping(configOf(), 'query', { sql: '\udc00' }), 'NON_CANONICAL_VALUE');
      expectCode(() => mapping(configOf(), 'query', { n: Infinity }), 'NON_CANONICAL_VALUE');
    });
  });
});

describe('requestInputOf', () => {
  describe('when the rule pins the whole arguments (the default)', () => {
    const call = mapped(configOf(), 'query', ARGS);
    const input = requestInputOf(configOf(), call);

    it('asks for one use of exactly this call for 1h, showing approvers the arguments', () => {
      expect(input).toEqual({
        subject: 'agent:ops-bot',
        action: 'tool_call',
        tool: {
          server: 'orders-db',
          name: 'query',
          argumentsDigest: digestOf(ARGS),
          arguments: ARGS,
        },
        scope: [{ resource: 'mcp/orders-db/query', permissions: ['call'] }],
        environment: 'staging',
        targets: ['orders-db:query'],
        executor: { principal: 'mcp-gateway' },
        duration: '1h',
        maxUses: 1,
        reason: 'agent:ops-bot calls query on orders-db',
      });
    });

    it('builds a body the server accepts, whose disclosed arguments hash to the digest', () => {
      expect(Value.Check(CreateRequestBody, input)).toBe(true);
      expect(normaliseToolBinding(input.tool!)).toEqual(input.tool);
    });

    it('gives the configured reason instead of its own', () => {
      const config = configOf({ reason: 'nightly reconciliation' });
      expect(requestInputOf(config, mapped(config, 'query', ARGS)).reason).toBe(
        'nightly reconciliation',
      );
    });
  });

  describe('when disclosure is off, or the arguments are too large to show', () => {
    it('pins them by digest only', () => {
      const quiet = configOf({ discloseArguments: false });
      expect(requestInputOf(quiet, mapped(quiet, 'query', ARGS)).tool).toEqual({
        server: 'orders-db',
        name: 'query',
        argumentsDigest: digestOf(ARGS),
      });
      const big = { sql: 'x'.repeat(5000) };
      const input = requestInputOf(configOf(), mapped(configOf(), 'query', big));
      expect(input.tool).toEqual({
        server: 'orders-db',
        name: 'query',
        argumentsDigest: digestOf(big),
      });
      expect(Value.Check(CreateRequestBody, input)).toBe(true);
    });

    it('still shows arguments right at the limit', () => {
      // {"sql":"…"} is 10 bytes more than its string.
      const edge = { sql: 'x'.repeat(4096 - 10) };
      const input = requestInputOf(configOf(), mapped(configOf(), 'query', edge));
      expect(input.tool?.arguments).toEqual(edge);
      expect(normaliseToolBinding(input.tool!)).toEqual(input.tool);
    });
  });

  describe('when the rule pins nothing', () => {
    it('binds the tool alone, with any arguments', () => {
      const config = configOf({ tools: { query: { pin: 'none', duration: '15m' } } });
      const input = requestInputOf(config, mapped(config, 'query', ARGS));
      expect(input.tool).toEqual({ server: 'orders-db', name: 'query' });
      expect(input.scope).toEqual([{ resource: 'mcp/orders-db/query', permissions: ['call'] }]);
      expect(input).toMatchObject({ duration: '15m', maxUses: 1 });
    });
  });

  describe('when the rule pins arguments by name', () => {
    const input = requestInputOf(PINNED, mapped(PINNED, 'query', { ...ARGS, limit: 10 }));

    it('constrains each pinned name to its one value, and binds no digest', () => {
      expect(input.tool).toEqual({ server: 'orders-db', name: 'query' });
      expect(input.scope).toEqual([
        {
          resource: 'db/orders',
          permissions: ['read'],
          constraints: { table: { in: ['orders'] }, limit: { in: [10] } },
        },
      ]);
      expect(Value.Check(CreateRequestBody, input)).toBe(true);
    });

    it('asks for a scope that allows the pinned values and nothing else', () => {
      const scope = normaliseScope(input.scope);
      const act = (args: Record<string, unknown>) =>
        scopeAllows(scope, { resource: 'db/orders', permission: 'read', arguments: args });
      expect(act({ table: 'orders', limit: 10, sql: 'anything' })).toBe(true);
      expect(act({ table: 'orders', limit: 11 })).toBe(false);
      expect(act({ table: 'orders', limit: '10' })).toBe(false);
    });
  });

  describe('when the rule asks for sessions', () => {
    const input = requestInputOf(SESSION, mapped(SESSION, 'query', ARGS));

    it('asks for every resource the constraints spell, each entry constrained, for the session', () => {
      const constraints = { table: { in: ['orders', 'invoices'] } };
      expect(input).toMatchObject({
        tool: { server: 'orders-db', name: 'query' },
        scope: [
          { resource: 'db/orders', permissions: ['read'], constraints },
          { resource: 'db/invoices', permissions: ['read'], constraints },
        ],
        duration: '2h',
        maxUses: 10,
        reason: 'agent:ops-bot calls query on orders-db (a session of 10 calls)',
      });
      expect(input.tool).not.toHaveProperty('argumentsDigest');
      expect(Value.Check(CreateRequestBody, input)).toBe(true);
    });

    it('asks for a * pattern and no constraints when the session constrains nothing', () => {
      const config = configOf({
        tools: { query: { resource: 'db/{table}', session: { maxUses: 3, duration: '30m' } } },
      });
      const open = requestInputOf(config, mapped(config, 'query', ARGS));
      expect(open.scope).toEqual([{ resource: 'db/*', permissions: ['call'] }]);
      expect(open).toMatchObject({ maxUses: 3, duration: '30m' });
    });
  });
});

describe('redemptionActionOf', () => {
  const call = mapped(SESSION, 'query', { ...ARGS, limit: [1] });
  const warrant = (scope: Scope, targets: string[] = ['orders-db:query']) => ({ scope, targets });
  const constrained: Scope = [
    {
      resource: 'db/orders',
      permissions: ['read'],
      constraints: { table: { in: ['orders'] }, limit: { in: [1] } },
    },
  ];

  describe('when the warrant constrains arguments', () => {
    it('presents the values of the constrained scalar arguments only', () => {
      const action = redemptionActionOf(SESSION, call, warrant(constrained));
      expect(action).toEqual({
        resource: 'db/orders',
        permission: 'read',
        environment: 'staging',
        target: 'orders-db:query',
        tool: {
          agent: 'agent:ops-bot',
          server: 'orders-db',
          name: 'query',
          argumentsDigest: digestOf({ ...ARGS, limit: [1] }),
          arguments: { table: 'orders' },
        },
      });
      expect(Value.Check(RedemptionBody, { warrant: 'w', action })).toBe(true);
    });
  });

  describe('when the warrant constrains none', () => {
    it('presents no argument values at all', () => {
      const action = redemptionActionOf(
        SESSION,
        call,
        warrant([{ resource: 'db/orders', permissions: ['read'] }]),
      );
      expect(action.tool).not.toHaveProperty('arguments');
    });
  });

  describe('when the warrant names no targets', () => {
    it('presents no target, which such a warrant would refuse', () => {
      const action = redemptionActionOf(SESSION, call, warrant(constrained, []));
      expect(action).not.toHaveProperty('target');
    });
  });
});

describe('pendingKeyOf', () => {
  const key = (config: GatingConfig, args: Record<string, unknown>) =>
    pendingKeyOf(config, mapped(config, 'query', args));

  describe('when the whole arguments are pinned', () => {
    it('gives the same call the same key, however its keys are ordered', () => {
      expect(key(configOf(), ARGS)).toBe(key(configOf(), { sql: 'select 1', table: 'orders' }));
    });

    it('ignores the reason, which does not change what is approved', () => {
      expect(key(configOf({ reason: 'one' }), ARGS)).toBe(key(configOf({ reason: 'two' }), ARGS));
    });

    it('gives different arguments different keys', () => {
      expect(key(configOf(), ARGS)).not.toBe(key(configOf(), { ...ARGS, sql: 'select 2' }));
    });

    it('gives another environment or subject another key', () => {
      expect(key(configOf(), ARGS)).not.toBe(key(configOf({ environment: 'prod' }), ARGS));
      expect(key(configOf(), ARGS)).not.toBe(key(configOf({ subject: 'agent:other' }), ARGS));
    });
  });

  describe('when arguments are pinned by name', () => {
    it('shares a key across unpinned arguments, and not across pinned ones', () => {
      const a = key(PINNED, { table: 'orders', limit: 1, sql: 'a' });
      expect(key(PINNED, { table: 'orders', limit: 1, sql: 'b' })).toBe(a);
      expect(key(PINNED, { table: 'orders', limit: 2, sql: 'a' })).not.toBe(a);
    });
  });

  describe('when the rule asks for sessions', () => {
    it('gives every call one session would approve the same key', () => {
      expect(key(SESSION, ARGS)).toBe(key(SESSION, { table: 'invoices', sql: 'select 2' }));
    });
  });
});
