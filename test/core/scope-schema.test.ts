import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/core/errors.js';
import {
  ArgumentConstraintsSchema,
  normaliseScope,
  ScopeEntrySchema,
  ScopeSchema,
  type ArgumentConstraints,
  type Scope,
} from '../../src/core/scope.js';

const segment = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9._:@=+-]{1,16}$/), weight: 30 },
  { arbitrary: fc.constantFrom('*', '.', '..', '', 'a b'), weight: 1 },
);
/** Mostly good argument names, sometimes one the name pattern refuses. */
const argName = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}$/), weight: 20 },
  { arbitrary: fc.constantFrom('', '1a', 'a b', `a${'b'.repeat(64)}`, 'é'), weight: 1 },
);
/** Scalars, with the ones normaliseScope must refuse or rewrite: NaN, ±Infinity, -0, long or ill-formed strings. */
const argValue = fc.oneof(
  { arbitrary: fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()), weight: 30 },
  {
    arbitrary: fc.oneof(
      fc.double(),
      fc.constantFrom('x'.repeat(1025), 'x'.repeat(1024), '\ud800', -0),
    ),
    weight: 1,
  },
);
/** Mostly valid constraints, sometimes empty ones, so that many scopes are still accepted. */
const constraints: fc.Arbitrary<ArgumentConstraints> = fc.oneof(
  { arbitrary: fc.constant({}), weight: 1 },
  {
    arbitrary: fc.dictionary(argName, fc.constant({ in: [] }), { minKeys: 1, maxKeys: 2 }),
    weight: 1,
  },
  {
    arbitrary: fc.dictionary(
      argName,
      fc
        .oneof(
          { arbitrary: fc.array(argValue, { minLength: 1, maxLength: 4 }), weight: 10 },
          // Numbered values reach past 64 distinct ones.
          { arbitrary: fc.array(fc.nat(100), { maxLength: 90, size: 'max' }), weight: 1 },
        )
        .map((values) => ({ in: values })),
      { minKeys: 1, maxKeys: 18 },
    ),
    weight: 20,
  },
);
const scope: fc.Arbitrary<Scope> = fc.array(
  fc
    .record({
      resource: fc.array(segment, { minLength: 1, maxLength: 36 }).map((s) => s.join('/')),
      // Numbered names reach past 64 distinct permissions; the pattern adds odd characters.
      permissions: fc.array(
        fc.oneof(
          fc.nat(200).map((n) => `p${n}`),
          fc.stringMatching(/^[A-Za-z0-9._:-]{1,8}$/),
        ),
        { maxLength: 90, size: 'max' },
      ),
      constraints: fc.option(constraints, { nil: undefined, freq: 2 }),
    })
    .map(({ constraints: c, ...e }) => (c === undefined ? e : { ...e, constraints: c })),
  { maxLength: 6 },
);

const codeOf = (s: Scope): string => {
  try {
    normaliseScope(s);
    return 'ok';
  } catch (e) {
    return e instanceof CountersignError ? e.code : 'thrown';
  }
};

describe('normaliseScope', () => {
  describe('when it accepts a scope', () => {
    it('returns one that fits ScopeSchema, so a warrant signed over it reads back', () => {
      let accepted = 0;
      let constrained = 0;
      fc.assert(
        fc.property(scope, (s) => {
          let normalised: Scope;
          try {
            normalised = normaliseScope(s);
          } catch (e) {
            expect((e as CountersignError<string>).code).toBe('INVALID_SCOPE');
            return;
          }
          accepted++;
          if (normalised.some((e) => e.constraints !== undefined)) constrained++;
          expect(Value.Errors(ScopeSchema, normalised).First()).toBeUndefined();
        }),
        { numRuns: 1000 },
      );
      expect(accepted).toBeGreaterThan(50);
      expect(constrained).toBeGreaterThan(10);
    });
  });

  describe('when an entry names more permissions than a scope may carry', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

    it('refuses 65 distinct permissions with INVALID_SCOPE', () => {
      expect(codeOf([{ resource: 'db/orders', permissions: many(65) }])).toBe('INVALID_SCOPE');
    });

    it('counts them after removing repeats', () => {
      const repeated = [...many(64), ...many(64)];
      expect(codeOf([{ resource: 'db/orders', permissions: many(64) }])).toBe('ok');
      expect(codeOf([{ resource: 'db/orders', permissions: repeated }])).toBe('ok');
    });
  });
});

describe('ScopeEntrySchema', () => {
  const entry = (constraints: unknown) => ({
    resource: 'db/query',
    permissions: ['call'],
    constraints,
  });
  const fits = (constraints: unknown): boolean => Value.Check(ScopeEntrySchema, entry(constraints));

  describe('when an entry carries constraints', () => {
    it('accepts one name with one to 64 scalar values', () => {
      expect(fits({ table: { in: ['orders'] } })).toBe(true);
      expect(fits({ 'a.b-c_1': { in: Array.from({ length: 64 }, (_, i) => i) } })).toBe(true);
      expect(fits({ dry: { in: [true, 1, 'x'.repeat(1024)] } })).toBe(true);
    });

    it('states additionalProperties: false, since a Record alone is only patternProperties', () => {
      expect(ArgumentConstraintsSchema.additionalProperties).toBe(false);
    });

    it.each<[string, unknown]>([
      ['a member other than in', { table: { in: ['orders'], not_in: ['customers'] } }],
      ['an empty value list', { table: { in: [] } }],
      ['65 values', { n: { in: Array.from({ length: 65 }, (_, i) => i) } }],
      ['a 1025-character string', { table: { in: ['x'.repeat(1025)] } }],
      ['a list value', { table: { in: [['orders']] } }],
      ['a null value', { table: { in: [null] } }],
      ['an empty constraints object', {}],
      [
        '17 names',
        Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, { in: [i] }])),
      ],
      ['a name starting with a digit', { '1table': { in: ['x'] } }],
      ['a name with a space', { 'my table': { in: ['x'] } }],
      ['an empty name', { '': { in: ['x'] } }],
      ['a 65-character name', { [`t${'x'.repeat(64)}`]: { in: ['x'] } }],
    ])('refuses %s', (_, c) => {
      expect(fits(c)).toBe(false);
    });

    it('refuses an entry member other than resource, permissions and constraints', () => {
      expect(Value.Check(ScopeEntrySchema, { ...entry({ t: { in: ['x'] } }), where: 'x' })).toBe(
        false,
      );
    });
  });
});
