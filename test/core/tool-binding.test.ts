import { describe, expect, it } from 'vitest';
import { canonicalJson, digestOf } from '../../src/core/canonical.js';
import type { NhiId } from '../../src/core/ids.js';
import {
  MAX_DISCLOSED_ARGUMENT_BYTES,
  normaliseToolBinding,
  toolCallProblem,
  type ToolBinding,
  type ToolCallAction,
} from '../../src/core/tool-binding.js';
import { expectCode } from '../helpers/expect-code.js';

const AGENT = 'agent:ops-bot' as NhiId;
const ARGS = { table: 'orders', sql: 'select 1' };
const DIGEST = digestOf(ARGS);

/** The call the gateway presents: the agent's query with ARGS, unless overridden. */
const call = (o: Partial<ToolCallAction> = {}): ToolCallAction => ({
  agent: AGENT,
  server: 'orders-db',
  name: 'query',
  argumentsDigest: DIGEST,
  ...o,
});

/** Canonical JSON of `{ s: 'x…x' }` is 8 bytes longer than its string. */
const argsOfBytes = (n: number) => ({ s: 'x'.repeat(n - 8) });

describe('normaliseToolBinding', () => {
  describe('when the binding discloses no arguments', () => {
    it('returns it unchanged, with or without a digest', () => {
      const session: ToolBinding = { server: 'orders-db', name: 'query' };
      const pinned: ToolBinding = { ...session, argumentsDigest: DIGEST };
      expect(normaliseToolBinding(session)).toBe(session);
      expect(normaliseToolBinding(pinned)).toBe(pinned);
    });
  });

  describe('when the binding discloses the arguments', () => {
    it('fills in the digest of their RFC 8785 form', () => {
      const b = normaliseToolBinding({ server: 'orders-db', name: 'query', arguments: ARGS });
      expect(b).toEqual({
        server: 'orders-db',
        name: 'query',
        arguments: ARGS,
        argumentsDigest: DIGEST,
      });
    });

    it('fills in the same digest whatever order the keys arrive in', () => {
      const reordered = { sql: 'select 1', table: 'orders' };
      const b = normaliseToolBinding({ server: 'orders-db', name: 'query', arguments: reordered });
      expect(b.argumentsDigest).toBe(DIGEST);
    });

    it('accepts a digest given with them that they hash to', () => {
      const b = normaliseToolBinding({
        server: 'orders-db',
        name: 'query',
        arguments: ARGS,
        argumentsDigest: DIGEST,
      });
      expect(b.argumentsDigest).toBe(DIGEST);
    });

    it('refuses a digest given with them that they do not hash to', () => {
      const err = expectCode(
        () =>
          normaliseToolBinding({
            server: 'orders-db',
            name: 'query',
            arguments: { table: 'invoices', sql: 'select 1' },
            argumentsDigest: DIGEST,
          }),
        'INVALID_TOOL_BINDING',
      );
      expect(err.message).toMatch(/do not hash to argumentsDigest/);
    });

    it(`accepts exactly ${MAX_DISCLOSED_ARGUMENT_BYTES} bytes of canonical JSON`, () => {
      const args = argsOfBytes(MAX_DISCLOSED_ARGUMENT_BYTES);
      expect(Buffer.byteLength(canonicalJson(args))).toBe(MAX_DISCLOSED_ARGUMENT_BYTES);
      const b = normaliseToolBinding({ server: 'orders-db', name: 'query', arguments: args });
      expect(b.argumentsDigest).toBe(digestOf(args));
    });

    it(`refuses more than ${MAX_DISCLOSED_ARGUMENT_BYTES} bytes, counting bytes rather than characters`, () => {
      const args = argsOfBytes(MAX_DISCLOSED_ARGUMENT_BYTES + 1);
      expectCode(
        () => normaliseToolBinding({ server: 'orders-db', name: 'query', arguments: args }),
        'INVALID_TOOL_BINDING',
      );
      // 2,000 characters of three bytes each: under the limit in characters, over it in bytes.
      const wide = { s: '€'.repeat(2000) };
      expectCode(
        () => normaliseToolBinding({ server: 'orders-db', name: 'query', arguments: wide }),
        'INVALID_TOOL_BINDING',
      );
    });

    it('refuses arguments RFC 8785 cannot represent', () => {
      for (const bad of [{ s: '\ud800' }, { n: Number.NaN }, { n: Infinity }, { u: undefined }]) {
        expectCode(
          () => normaliseToolBinding({ server: 'orders-db', name: 'query', arguments: bad }),
          'NON_CANONICAL_VALUE',
        );
      }
    });
  });
});

describe('toolCallProblem', () => {
  const pinned: ToolBinding = { server: 'orders-db', name: 'query', argumentsDigest: DIGEST };
  const session: ToolBinding = { server: 'orders-db', name: 'query' };

  describe('when neither the warrant nor the redemption is about a tool call', () => {
    it('finds no problem', () => {
      expect(toolCallProblem(AGENT, undefined, undefined)).toBeNull();
    });
  });

  describe('when only one side names a tool call', () => {
    it('refuses a call presented to a warrant that approves none', () => {
      expect(toolCallProblem(AGENT, undefined, call())).toEqual({
        code: 'TOOL_MISMATCH',
        reason: 'the warrant does not approve a tool call',
      });
    });

    it('refuses a redemption that names no call to a tool-call warrant', () => {
      expect(toolCallProblem(AGENT, pinned, undefined)).toMatchObject({ code: 'TOOL_MISMATCH' });
      expect(toolCallProblem(AGENT, session, undefined)).toMatchObject({ code: 'TOOL_MISMATCH' });
    });
  });

  describe('when the binding pins the arguments', () => {
    it('accepts the same agent, server, tool and digest', () => {
      expect(toolCallProblem(AGENT, pinned, call())).toBeNull();
    });

    it('refuses a call made for another agent', () => {
      const problem = toolCallProblem(AGENT, pinned, call({ agent: 'agent:other' as NhiId }));
      expect(problem).toEqual({
        code: 'TOOL_MISMATCH',
        reason: 'the warrant approves the tool calls of another agent',
      });
    });

    it('refuses a call to another server or another tool', () => {
      for (const other of [call({ server: 'billing-db' }), call({ name: 'drop_table' })]) {
        expect(toolCallProblem(AGENT, pinned, other)).toEqual({
          code: 'TOOL_MISMATCH',
          reason: 'the warrant approves a different tool',
        });
      }
    });

    it('refuses other arguments with ARGUMENTS_MISMATCH', () => {
      const other = call({ argumentsDigest: digestOf({ table: 'invoices', sql: 'select 1' }) });
      expect(toolCallProblem(AGENT, pinned, other)).toEqual({
        code: 'ARGUMENTS_MISMATCH',
        reason: 'the arguments differ from those approved',
      });
    });

    it('checks the agent before the tool, and the tool before the arguments', () => {
      const everything = call({
        agent: 'agent:other' as NhiId,
        name: 'drop_table',
        argumentsDigest: digestOf({}),
      });
      expect(toolCallProblem(AGENT, pinned, everything)?.reason).toMatch(/another agent/);
      const toolAndArgs = call({ name: 'drop_table', argumentsDigest: digestOf({}) });
      expect(toolCallProblem(AGENT, pinned, toolAndArgs)?.code).toBe('TOOL_MISMATCH');
    });
  });

  describe('when the binding is a session (no digest)', () => {
    it('accepts any arguments for the same agent, server and tool', () => {
      expect(toolCallProblem(AGENT, session, call())).toBeNull();
      expect(toolCallProblem(AGENT, session, call({ argumentsDigest: digestOf({}) }))).toBeNull();
    });

    it('still refuses another agent or another tool', () => {
      const other = call({ agent: 'agent:other' as NhiId });
      expect(toolCallProblem(AGENT, session, other)?.code).toBe('TOOL_MISMATCH');
      expect(toolCallProblem(AGENT, session, call({ name: 'drop_table' }))?.code).toBe(
        'TOOL_MISMATCH',
      );
    });
  });
});
