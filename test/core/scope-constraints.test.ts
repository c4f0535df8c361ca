import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  normaliseScope,
  scopeAllows,
  scopeWithin,
  ScopeSchema,
  type ArgumentConstraints,
  type Scope,
} from '../../src/core/scope.js';
import { expectCode } from '../helpers/expect-code.js';
import {
  constrainedScope,
  coveredWithArguments,
  grantsWithArguments,
  isSubset,
  keyWithArguments,
  narrowerConstrainedScope,
  nearConstrainedScope,
  WORLD_ARG_ACTIONS,
} from '../helpers/scope-model.js';

/** One entry on db/query for `call`, constrained as given. */
const query = (constraints: ArgumentConstraints): Scope => [
  { resource: 'db/query', permissions: ['call'], constraints },
];
const call = (args?: Readonly<Record<string, unknown>>) =>
  args === undefined
    ? { resource: 'db/query', permission: 'call' }
    : { resource: 'db/query', permission: 'call', arguments: args };

const worldKeys = WORLD_ARG_ACTIONS.map(keyWithArguments);

/** Pairs of scopes: unrelated, inner narrowed from outer, or inner near outer. */
const pair: fc.Arbitrary<readonly [Scope, Scope]> = fc.oneof(
  fc.tuple(constrainedScope, constrainedScope),
  constrainedScope.chain((o) => narrowerConstrainedScope(o).map((i) => [i, o] as const)),
  constrainedScope.chain((o) => nearConstrainedScope(o).map((i) => [i, o] as const)),
);

describe('scopeAllows with argument constraints', () => {
  describe('when compared with the enumerative model over every action of a world with arguments', () => {
    it('allows exactly the actions the scope grants, neither more nor fewer', () => {
      fc.assert(
        fc.property(constrainedScope, (s) => {
          const granted = grantsWithArguments(s);
          const wrong = WORLD_ARG_ACTIONS.filter(
            (a, i) => scopeAllows(s, a) !== granted.has(worldKeys[i] ?? ''),
          );
          expect(wrong).toEqual([]);
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('when the entry allows table in {orders, invoices}', () => {
    const s = query({ table: { in: ['orders', 'invoices'] } });

    it('allows table orders and table invoices', () => {
      expect(scopeAllows(s, call({ table: 'orders' }))).toBe(true);
      expect(scopeAllows(s, call({ table: 'invoices' }))).toBe(true);
    });

    it('ignores arguments it does not constrain', () => {
      expect(scopeAllows(s, call({ table: 'orders', limit: 10 }))).toBe(true);
    });

    it('refuses table customers', () => {
      expect(scopeAllows(s, call({ table: 'customers' }))).toBe(false);
    });

    it('refuses a call without a table, or without arguments at all', () => {
      expect(scopeAllows(s, call({}))).toBe(false);
      expect(scopeAllows(s, call())).toBe(false);
    });

    it('refuses a table given as a list or an object holding an allowed name', () => {
      expect(scopeAllows(s, call({ table: ['orders'] }))).toBe(false);
      expect(scopeAllows(s, call({ table: { name: 'orders' } }))).toBe(false);
      expect(scopeAllows(s, call({ table: null }))).toBe(false);
    });

    it('refuses a table inherited from a prototype or read through a getter', () => {
      const inherited = Object.create({ table: 'orders' }) as Record<string, unknown>;
      const getter = Object.defineProperty({}, 'table', { get: () => 'orders', enumerable: true });
      expect(scopeAllows(s, call(inherited))).toBe(false);
      expect(scopeAllows(s, call(getter))).toBe(false);
    });

    it('refuses arguments given as a list', () => {
      const list = Object.assign(['orders'], { table: 'orders' });
      expect(
        scopeAllows(s, { ...call(), arguments: list as unknown as Record<string, unknown> }),
      ).toBe(false);
    });
  });

  describe('when values of different types look alike', () => {
    it('refuses "1" when 1 is allowed, and 1 when "1" is', () => {
      expect(scopeAllows(query({ limit: { in: [1] } }), call({ limit: '1' }))).toBe(false);
      expect(scopeAllows(query({ limit: { in: ['1'] } }), call({ limit: 1 }))).toBe(false);
      expect(scopeAllows(query({ limit: { in: [1] } }), call({ limit: 1 }))).toBe(true);
    });

    it('refuses "true" when true is allowed, and 1 when true is', () => {
      expect(scopeAllows(query({ dry: { in: [true] } }), call({ dry: 'true' }))).toBe(false);
      expect(scopeAllows(query({ dry: { in: [true] } }), call({ dry: 1 }))).toBe(false);
    });

    it('never matches NaN, even against a scope that was not normalised', () => {
      expect(scopeAllows(query({ n: { in: [Number.NaN] } }), call({ n: Number.NaN }))).toBe(false);
    });
  });

  describe('when an entry has no constraints', () => {
    it('allows the action whatever its arguments, as before', () => {
      const s: Scope = [{ resource: 'db/query', permissions: ['call'] }];
      expect(scopeAllows(s, call({ table: ['anything'] }))).toBe(true);
      expect(scopeAllows(s, call())).toBe(true);
    });
  });

  describe('when the constrained name is __proto__', () => {
    it('reads it as an argument, not as the prototype', () => {
      const raw = JSON.parse('{"__proto__": {"in": ["x"]}}') as ArgumentConstraints;
      const s = normaliseScope(query(raw));
      expect(Object.getPrototypeOf(s[0]?.constraints)).toBe(Object.prototype);
      expect(
        scopeAllows(s, call(JSON.parse('{"__proto__": "x"}') as Record<string, unknown>)),
      ).toBe(true);
      expect(scopeAllows(s, call({}))).toBe(false);
    });
  });
});

describe('scopeWithin with argument constraints', () => {
  describe('when compared with the enumerative model', () => {
    it('is sound: within means the inner scope grants a subset of what the outer grants', () => {
      const seen = { within: 0, outside: 0 };
      fc.assert(
        fc.property(pair, ([inner, outer]) => {
          const within = scopeWithin(inner, outer);
          seen[within ? 'within' : 'outside'] += 1;
          if (within)
            expect(isSubset(grantsWithArguments(inner), grantsWithArguments(outer))).toBe(true);
        }),
        { numRuns: 300 },
      );
      expect(seen.within).toBeGreaterThan(30);
      expect(seen.outside).toBeGreaterThan(30);
    });
  });

  describe('when the inner scope narrows the outer, arguments included', () => {
    it('holds, and the outer allows every action the inner allows', () => {
      const triple = constrainedScope.chain((outer) =>
        narrowerConstrainedScope(outer).chain((inner) =>
          coveredWithArguments(inner).map((a) => [inner, outer, a] as const),
        ),
      );
      fc.assert(
        fc.property(triple, ([inner, outer, a]) => {
          expect(scopeWithin(inner, outer)).toBe(true);
          expect(scopeAllows(inner, a)).toBe(true);
          expect(scopeAllows(outer, a)).toBe(true);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when the scopes are unrelated', () => {
    it('never broadens: within, the outer allows every action of the world the inner allows', () => {
      fc.assert(
        fc.property(pair, ([inner, outer]) => {
          if (!scopeWithin(inner, outer)) return;
          for (const a of WORLD_ARG_ACTIONS) {
            if (scopeAllows(inner, a)) expect(scopeAllows(outer, a)).toBe(true);
          }
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('when one side has no constraints', () => {
    const free: Scope = [{ resource: 'db/query', permissions: ['call'] }];
    const constrained = query({ table: { in: ['orders'] } });

    it('holds for a constrained inner in a constraint-free outer', () => {
      expect(scopeWithin(constrained, free)).toBe(true);
    });

    it('does not hold for a constraint-free inner in a constrained outer', () => {
      expect(scopeWithin(free, constrained)).toBe(false);
    });
  });

  describe('when both sides constrain', () => {
    const outer = query({ table: { in: ['orders', 'invoices'] } });

    it('holds for fewer values, or for an extra constraint on another name', () => {
      expect(scopeWithin(query({ table: { in: ['orders'] } }), outer)).toBe(true);
      const extra = query({ table: { in: ['orders'] }, limit: { in: [10] } });
      expect(scopeWithin(extra, outer)).toBe(true);
    });

    it('does not hold for a value the outer lacks, a look-alike, or another name only', () => {
      expect(scopeWithin(query({ table: { in: ['orders', 'customers'] } }), outer)).toBe(false);
      expect(scopeWithin(query({ n: { in: ['1'] } }), query({ n: { in: [1] } }))).toBe(false);
      expect(scopeWithin(query({ limit: { in: [10] } }), outer)).toBe(false);
    });

    it('does not hold when the outer covers the values only across two entries (sound, not complete)', () => {
      const inner = query({ table: { in: ['orders', 'invoices'] } });
      const split: Scope = [
        ...query({ table: { in: ['orders'] } }),
        ...query({ table: { in: ['invoices'] } }),
      ];
      expect(scopeWithin(inner, split)).toBe(false);
      expect(scopeAllows(split, call({ table: 'orders' }))).toBe(true);
      expect(scopeAllows(split, call({ table: 'invoices' }))).toBe(true);
    });
  });
});

describe('normaliseScope with argument constraints', () => {
  describe('when compared with the enumerative model', () => {
    it('grants exactly what the scope it was given grants', () => {
      fc.assert(
        fc.property(constrainedScope, (s) => {
          expect(grantsWithArguments(normaliseScope(s))).toEqual(grantsWithArguments(s));
        }),
        { numRuns: 200 },
      );
    });

    it('is idempotent and returns a scope that fits ScopeSchema', () => {
      fc.assert(
        fc.property(constrainedScope, (s) => {
          const once = normaliseScope(s);
          expect(normaliseScope(once)).toEqual(once);
          expect(Value.Errors(ScopeSchema, once).First()).toBeUndefined();
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when the constraints are valid', () => {
    it('sorts names, sorts values by type then value, and removes repeats', () => {
      const [e] = normaliseScope(
        query({
          table: { in: ['orders', 'invoices', 'orders'] },
          limit: { in: ['1', 10, true, 1, false, 1, 'a'] },
        }),
      );
      expect(e).toEqual({
        resource: 'db/query',
        permissions: ['call'],
        constraints: {
          limit: { in: [false, true, 1, 10, '1', 'a'] },
          table: { in: ['invoices', 'orders'] },
        },
      });
      expect(Object.keys(e?.constraints ?? {})).toEqual(['limit', 'table']);
    });

    it('keeps look-alikes of different types as different values', () => {
      const [e] = normaliseScope(query({ n: { in: ['1', 1, 'true', true] } }));
      expect(e?.constraints?.n?.in).toEqual([true, 1, '1', 'true']);
    });

    it('writes -0 as 0, once', () => {
      const [e] = normaliseScope(query({ n: { in: [-0, 0] } }));
      expect(e?.constraints?.n?.in).toHaveLength(1);
      expect(Object.is(e?.constraints?.n?.in[0], 0)).toBe(true);
    });

    it('keeps an entry without constraints without the key', () => {
      const [e] = normaliseScope([{ resource: 'db/query', permissions: ['call'] }]);
      expect(e).not.toHaveProperty('constraints');
    });

    it('counts values after removing repeats', () => {
      const many = Array.from({ length: 64 }, (_, i) => i);
      expect(() => normaliseScope(query({ n: { in: [...many, ...many] } }))).not.toThrow();
    });
  });

  describe('when the constraints are malformed', () => {
    const bad = (c: unknown): Scope => query(c as ArgumentConstraints);
    it.each<[string, unknown]>([
      ['an empty constraints object', {}],
      ['constraints given as a list', [{ in: ['x'] }]],
      ['an empty value list', { table: { in: [] } }],
      ['a value list that is not a list', { table: { in: 'orders' } }],
      ['a member other than in', { table: { in: ['orders'], not_in: ['customers'] } }],
      ['a constraint that is not an object', { table: ['orders'] }],
      ['a name starting with a digit', { '1table': { in: ['x'] } }],
      ['a name with a space', { 'my table': { in: ['x'] } }],
      ['an empty name', { '': { in: ['x'] } }],
      ['a 65-character name', { [`t${'x'.repeat(64)}`]: { in: ['x'] } }],
      ['a list value', { table: { in: [['orders']] } }],
      ['a null value', { table: { in: [null] } }],
      ['an object value', { table: { in: [{}] } }],
      ['NaN', { n: { in: [Number.NaN] } }],
      ['Infinity', { n: { in: [Number.POSITIVE_INFINITY] } }],
      ['a 1025-character string', { table: { in: ['x'.repeat(1025)] } }],
      ['a lone surrogate', { table: { in: ['\ud800'] } }],
      ['65 distinct values', { n: { in: Array.from({ length: 65 }, (_, i) => i) } }],
      [
        '17 constrained names',
        Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, { in: [i] }])),
      ],
    ])('refuses %s with INVALID_SCOPE', (_, c) => {
      expectCode(() => normaliseScope(bad(c)), 'INVALID_SCOPE');
    });
  });
});
