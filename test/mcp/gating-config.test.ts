import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { McpGatewayError } from '../../src/mcp/errors.js';
import { gatingConfigOf, readGatingConfig, type ToolRule } from '../../src/mcp/gating-config.js';
import { expectCode } from '../helpers/expect-code.js';

const MINIMAL = {
  server: 'orders-db',
  environment: 'staging',
  subject: 'agent:ops-bot',
  executor: 'mcp-gateway',
};

const refused = (doc: unknown) =>
  expectCode(() => gatingConfigOf(doc, 'test.yaml'), 'GATEWAY_CONFIG_INVALID', McpGatewayError);

/** The rule for `tool` under `tools`, which must exist. */
function ruleOf(tools: Record<string, unknown>, tool = 'query'): ToolRule {
  const rule = gatingConfigOf({ ...MINIMAL, tools }, 'test.yaml').ruleFor(tool);
  if (rule === undefined) throw new Error(`${tool} is not gated`);
  return rule;
}

describe('gatingConfigOf', () => {
  describe('when the config names only the server, environment, subject and executor', () => {
    const config = gatingConfigOf(MINIMAL, 'test.yaml');

    it('keeps them, with no reason and disclosed arguments', () => {
      expect(config).toMatchObject({ ...MINIMAL, reason: undefined, discloseArguments: true });
    });

    it('gates every tool, even one whose name holds a line break', () => {
      for (const tool of [
        'query',
        'ping',
        'fs/read',
        'a.b-c_d',
        'query\n',
        '\nquery',
        'a\u2028b',
      ]) {
        expect(config.ruleFor(tool), JSON.stringify(tool)).toBeDefined();
      }
    });

    it('maps a call onto mcp/<server>/<tool> with permission call, the whole arguments pinned, for 1h', () => {
      const rule = config.ruleFor('query');
      expect(rule?.resource.text).toBe('mcp/orders-db/{tool}');
      expect(rule).toMatchObject({
        permission: 'call',
        target: undefined,
        pin: 'all',
        durationMs: 3_600_000,
        session: undefined,
      });
    });
  });

  describe('when the config is the mcpGateway section of a larger file', () => {
    it('reads the section and leaves the rest to others', () => {
      const doc = { mcpGateway: { ...MINIMAL, reason: 'nightly' }, oidc: { issuers: [] } };
      expect(gatingConfigOf(doc, 'test.yaml')).toMatchObject({ ...MINIMAL, reason: 'nightly' });
    });

    it('validates the section as strictly as a file of its own', () => {
      refused({ mcpGateway: { ...MINIMAL, extra: true } });
      refused({ mcpGateway: null });
    });
  });

  describe('when gated lists names and globs', () => {
    const config = gatingConfigOf({ ...MINIMAL, gated: ['query', 'drop_*', 'fs.*'] }, 't');

    it('gates the tools they match', () => {
      for (const tool of ['query', 'drop_table', 'drop_', 'fs.read', 'drop_\ntable']) {
        expect(config.ruleFor(tool), tool).toBeDefined();
      }
    });

    it('passes every other tool through ungated, reading . and other characters literally', () => {
      for (const tool of ['ping', 'queryx', 'xquery', 'fsxread', 'dro']) {
        expect(config.ruleFor(tool), tool).toBeUndefined();
      }
    });

    it('leaves a tool with a rule ungated when gated does not name it', () => {
      const c = gatingConfigOf({ ...MINIMAL, gated: ['query'], tools: { ping: {} } }, 't');
      expect(c.ruleFor('ping')).toBeUndefined();
    });

    it('gates nothing when the list is empty', () => {
      expect(gatingConfigOf({ ...MINIMAL, gated: [] }, 't').ruleFor('query')).toBeUndefined();
    });
  });

  describe('when a tool has a rule', () => {
    it('uses its resource template, permission, target, pins and duration', () => {
      const rule = ruleOf({
        query: {
          resource: 'db/{table}',
          permission: 'read',
          target: 'orders-db:primary',
          pin: ['table'],
          duration: '1h30m',
        },
      });
      expect(rule.resource.segments).toEqual([{ literal: 'db' }, { arg: 'table' }]);
      expect(rule).toMatchObject({
        permission: 'read',
        target: 'orders-db:primary',
        pin: ['table'],
        durationMs: 5_400_000,
      });
    });

    it('reads a session: uses, duration and constraints', () => {
      const rule = ruleOf({
        query: {
          resource: 'db/{table}',
          session: { maxUses: 10, duration: '2h', constraints: { table: ['orders', 7, true] } },
        },
      });
      expect(rule.session).toEqual({
        maxUses: 10,
        durationMs: 7_200_000,
        constraints: { table: ['orders', 7, true] },
      });
    });

    it('reads a session without constraints as one that constrains nothing', () => {
      const rule = ruleOf({ query: { session: { maxUses: 1, duration: '5m' } } });
      expect(rule.session?.constraints).toEqual({});
    });

    it('refuses a session that also pins, since its constraints bound the arguments', () => {
      for (const pin of ['all', 'none', ['table']]) {
        const err = refused({
          ...MINIMAL,
          tools: { query: { pin, session: { maxUses: 1, duration: '1h' } } },
        });
        expect(err.message).toContain('/tools/query');
        expect(err.message).toContain('a session rule pins nothing');
      }
    });

    it('refuses a bad template at load, not at the first call', () => {
      const err = refused({ ...MINIMAL, tools: { query: { resource: 'db/t_{table}' } } });
      expect(err.message).toContain('test.yaml /tools/query');
    });
  });

  describe('when a key is unknown', () => {
    it('refuses it at the top, in a rule and in a session', () => {
      refused({ ...MINIMAL, gate: ['query'] });
      refused({ ...MINIMAL, tools: { query: { pins: 'all' } } });
      refused({ ...MINIMAL, tools: { query: { session: { maxUses: 1, duration: '1h', n: 1 } } } });
    });
  });

  describe('when a field is missing or of the wrong kind', () => {
    it('refuses it, naming its path', () => {
      const { executor: _executor, ...noExecutor } = MINIMAL;
      expect(refused(noExecutor).message).toMatch(/^gateway config test\.yaml: \/executor/);
      expect(refused({ ...MINIMAL, server: 'orders db' }).message).toContain('/server');
      expect(refused({ ...MINIMAL, discloseArguments: 'yes' }).message).toContain(
        '/discloseArguments',
      );
      expect(refused({ ...MINIMAL, tools: { q: { pin: [] } } }).message).toContain('/tools/q/pin');
      const noUses = { ...MINIMAL, tools: { q: { session: { maxUses: 0, duration: '1h' } } } };
      expect(refused(noUses).message).toContain('/tools/q/session/maxUses');
    });

    it('refuses what is not a config at all', () => {
      for (const doc of [null, undefined, 'server: orders-db', [MINIMAL], 42]) refused(doc);
    });
  });

  describe('when the subject is not an NHI id', () => {
    it('refuses it', () => {
      for (const subject of ['ops-bot', 'Agent:ops-bot', 'agent:', 'agent:ops bot']) {
        expect(refused({ ...MINIMAL, subject }).message).toContain('/subject');
      }
    });
  });

  describe('when a duration is not one', () => {
    it('refuses text that is no duration', () => {
      for (const duration of ['1 hour', '1H', '90', 'h', '-1h', '1h ', '1.5h']) {
        refused({ ...MINIMAL, tools: { query: { duration } } });
        refused({ ...MINIMAL, tools: { query: { session: { maxUses: 1, duration } } } });
      }
    });

    // The schema lets 0s through; parseDuration then throws its own VALIDATION_FAILED,
    // which names neither the file nor the tool.
    it('refuses a zero duration as an invalid gateway config naming the tool', () => {
      const err = refused({ ...MINIMAL, tools: { query: { duration: '0s' } } });
      expect(err.message).toContain('/tools/query');
    });
  });
});

describe('readGatingConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-gating-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  describe('when the file is YAML', () => {
    it('reads it', () => {
      const path = file(
        'ok.yaml',
        [
          'server: orders-db',
          'environment: staging',
          'subject: agent:ops-bot',
          'executor: mcp-gateway',
          'gated: [query]',
          'tools:',
          '  query:',
          '    resource: db/{table}',
          '    session: { maxUses: 3, duration: 2h, constraints: { table: [orders] } }',
        ].join('\n'),
      );
      const config = readGatingConfig(path);
      expect(config.subject).toBe('agent:ops-bot');
      expect(config.ruleFor('query')?.session?.maxUses).toBe(3);
      expect(config.ruleFor('ping')).toBeUndefined();
    });
  });

  describe('when the file is JSON', () => {
    it('reads it as the YAML it also is', () => {
      const path = file('ok.json', JSON.stringify({ mcpGateway: MINIMAL }));
      expect(readGatingConfig(path).server).toBe('orders-db');
    });
  });

  describe('when a key appears twice', () => {
    it('refuses the file rather than letting the last one win', () => {
      const yaml = [
        'server: orders-db',
        'environment: staging',
        'subject: agent:ops-bot',
        'executor: mcp-gateway',
        'gated: [query]',
        'gated: []',
      ].join('\n');
      const err = expectCode(
        () => readGatingConfig(file('dup.yaml', yaml)),
        'GATEWAY_CONFIG_INVALID',
        McpGatewayError,
      );
      expect(err.message).toContain('dup.yaml');
    });

    it('refuses a key repeated inside a tool rule', () => {
      const yaml = [
        'server: orders-db',
        'environment: staging',
        'subject: agent:ops-bot',
        'executor: mcp-gateway',
        'tools:',
        '  query:',
        '    pin: all',
        '    pin: none',
      ].join('\n');
      expectCode(() => readGatingConfig(file('dup-rule.yaml', yaml)), 'GATEWAY_CONFIG_INVALID');
    });
  });

  describe('when the file cannot be read or parsed', () => {
    it('refuses it, naming the file in one line', () => {
      for (const path of [join(dir, 'missing.yaml'), file('bad.yaml', 'server: [orders-db')]) {
        const err = expectCode(() => readGatingConfig(path), 'GATEWAY_CONFIG_INVALID');
        expect(err.message).toContain(path);
        expect(err.message).not.toContain('\n');
      }
    });
  });
});
