import { describe, expect, it } from 'vitest';
import { McpGatewayError } from '../../src/mcp/errors.js';
import { parseTemplate, resourceOf, sessionResources } from '../../src/mcp/template.js';
import { expectCode } from '../helpers/expect-code.js';

const refused = (text: string) =>
  expectCode(() => parseTemplate(text, 'test'), 'GATEWAY_CONFIG_INVALID', McpGatewayError);

describe('parseTemplate', () => {
  describe('when every placeholder fills a whole segment', () => {
    it('splits literals from placeholders', () => {
      expect(parseTemplate('db/{schema}/{table}', 'test').segments).toEqual([
        { literal: 'db' },
        { arg: 'schema' },
        { arg: 'table' },
      ]);
    });

    it('accepts a template of literals only, and the {tool} placeholder', () => {
      expect(parseTemplate('mcp/orders-db/query', 'test').segments).toHaveLength(3);
      expect(parseTemplate('mcp/orders-db/{tool}', 'test').segments[2]).toEqual({ arg: 'tool' });
    });
  });

  describe('when a placeholder shares its segment', () => {
    it('refuses it, naming where the template came from', () => {
      for (const text of ['db/t_{table}', 'db/{table}x', 'db/{a}{b}', 'db/{table']) {
        const err = refused(text);
        expect(err.message).toContain('gateway config test');
        expect(err.message).toContain('a placeholder fills a whole segment');
      }
    });

    it('refuses a placeholder whose name is not an argument name', () => {
      refused('db/{}');
      refused('db/{1table}');
      refused('db/{ta ble}');
    });
  });

  describe('when a literal is not a valid resource segment', () => {
    it('refuses it', () => {
      for (const text of ['db/ta ble/{t}', 'db/../{t}', 'db//{t}', '/{t}', 'db/./{t}', 'db/{t}/']) {
        expect(refused(text).message).toContain(`resource ${text}`);
      }
    });

    it('accepts a literal * (a pattern segment) as the template is checked as a pattern', () => {
      expect(parseTemplate('db/*/{t}', 'test').segments[1]).toEqual({ literal: '*' });
    });
  });
});

describe('resourceOf', () => {
  const table = parseTemplate('db/{table}', 'test');

  describe('when the argument names a segment', () => {
    it('spells the resource from a string', () => {
      expect(resourceOf(table, 'query', { table: 'orders' })).toEqual({ resource: 'db/orders' });
    });

    it('spells the resource from a number', () => {
      expect(resourceOf(table, 'query', { table: 42 })).toEqual({ resource: 'db/42' });
    });

    it('spells {tool} from the tool name, not from an argument called tool', () => {
      const t = parseTemplate('mcp/orders-db/{tool}', 'test');
      expect(resourceOf(t, 'query', { tool: 'drop_table' })).toEqual({
        resource: 'mcp/orders-db/query',
      });
    });
  });

  describe('when the argument names no segment', () => {
    it('gives a problem for a missing argument', () => {
      expect(resourceOf(table, 'query', {})).toEqual({
        problem: 'argument table must be a string naming the resource (db/{table})',
      });
    });

    it('gives a problem for an argument that is not a string or number', () => {
      for (const v of [true, null, ['orders'], { name: 'orders' }]) {
        expect(resourceOf(table, 'query', { table: v })).toHaveProperty('problem');
      }
    });

    it('does not read an inherited property as the argument', () => {
      const t = parseTemplate('db/{toString}', 'test');
      expect(resourceOf(t, 'query', {})).toHaveProperty('problem');
    });

    it('gives a problem for *, .., an empty string or a character no segment holds', () => {
      for (const v of ['*', '..', '.', '', 'or ders', 'x'.repeat(129)]) {
        expect(resourceOf(table, 'query', { table: v })).toEqual({
          problem: 'the arguments name no valid resource for db/{table}',
        });
      }
    });

    it('gives a problem for an argument that would empty a segment with a /', () => {
      expect(resourceOf(table, 'query', { table: 'orders/' })).toHaveProperty('problem');
      expect(resourceOf(table, 'query', { table: '/orders' })).toHaveProperty('problem');
    });

    // The module promises that an argument never adds a `/` (another level), but the
    // joined resource is only checked as a whole: `orders/secret` passes as two segments.
    it('gives a problem for an argument holding a / between two valid names', () => {
      expect(resourceOf(table, 'query', { table: 'orders/secret' })).toHaveProperty('problem');
    });
  });
});

describe('sessionResources', () => {
  const t = parseTemplate('db/{schema}/{table}', 'test');

  describe('when the session constrains every placeholder', () => {
    it('spells every combination of the constraint values, numbers as text', () => {
      const out = sessionResources(t, 'query', { schema: ['main', 7], table: ['a', 'b'] }, 256);
      expect(out).toEqual(['db/main/a', 'db/main/b', 'db/7/a', 'db/7/b']);
    });
  });

  describe('when a placeholder is unconstrained', () => {
    it('spells it as *, so the pattern covers any value', () => {
      expect(sessionResources(t, 'query', { table: ['orders'] }, 256)).toEqual(['db/*/orders']);
      expect(sessionResources(t, 'query', {}, 256)).toEqual(['db/*/*']);
    });

    it('ignores constraints on arguments the template does not name', () => {
      expect(sessionResources(t, 'query', { sql: ['select 1'] }, 256)).toEqual(['db/*/*']);
    });
  });

  describe('when the template names the tool', () => {
    it('spells {tool} as the tool', () => {
      const tool = parseTemplate('mcp/orders-db/{tool}', 'test');
      expect(sessionResources(tool, 'query', {}, 256)).toEqual(['mcp/orders-db/query']);
    });
  });

  describe('when the combinations reach the limit', () => {
    const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);

    it('spells exactly limit resources', () => {
      const out = sessionResources(t, 'query', { schema: values(4), table: values(4) }, 16);
      expect(out).toHaveLength(16);
    });

    it('refuses one more', () => {
      const err = expectCode(
        () => sessionResources(t, 'query', { schema: values(4), table: values(5) }, 16),
        'GATEWAY_CONFIG_INVALID',
        McpGatewayError,
      );
      expect(err.message).toBe('the session for query spells more than 16 resources');
    });
  });
});
