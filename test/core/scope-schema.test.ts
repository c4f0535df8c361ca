import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/core/errors.js';
import { normaliseScope, ScopeSchema, type Scope } from '../../src/core/scope.js';

const segment = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9._:@=+-]{1,16}$/), weight: 30 },
  { arbitrary: fc.constantFrom('*', '.', '..', '', 'a b'), weight: 1 },
);
const scope = fc.array(
  fc.record({
    resource: fc.array(segment, { minLength: 1, maxLength: 36 }).map((s) => s.join('/')),
    // Numbered names reach past 64 distinct permissions; the pattern adds odd characters.
    permissions: fc.array(
      fc.oneof(
        fc.nat(200).map((n) => `p${n}`),
        fc.stringMatching(/^[A-Za-z0-9._:-]{1,8}$/),
      ),
      { maxLength: 90, size: 'max' },
    ),
  }),
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
          expect(Value.Errors(ScopeSchema, normalised).First()).toBeUndefined();
        }),
        { numRuns: 500 },
      );
      expect(accepted).toBeGreaterThan(50);
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
