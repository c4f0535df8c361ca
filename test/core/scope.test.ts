import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  normaliseScope,
  patternMatches,
  patternWithin,
  scopeAllows,
  scopeWithin,
  type ConcreteAction,
  type Scope,
} from '../../src/core/scope.js';
import { expectCode } from '../helpers/expect-code.js';
import {
  grants,
  instance,
  instancesOf,
  INVALID_RESOURCES,
  keyOf,
  isSubset,
  narrowed,
  narrowerScope,
  pattern,
  permission,
  permissions,
  resource,
  scope,
  spelledOut,
  WORLD_ACTIONS,
  WORLD_RESOURCES,
} from '../helpers/scope-model.js';

/** An action that some entry of `s` covers. */
const covered = (s: Scope): fc.Arbitrary<ConcreteAction> =>
  fc
    .constantFrom(...s)
    .chain((e) =>
      fc.record({ resource: instance(e.resource), permission: fc.constantFrom(...e.permissions) }),
    );

/** Entries that narrow an entry of `outer` but may ask for any permissions: within, or just not. */
const nearScope = (outer: Scope): fc.Arbitrary<Scope> =>
  fc.array(
    fc
      .constantFrom(...outer)
      .chain((e) => fc.record({ resource: narrowed(e.resource), permissions })),
    { minLength: 1, maxLength: 4 },
  );

/** The actions of the small world on which scopeAllows and the model disagree. */
function disagreements(s: Scope, want: (allowed: boolean, granted: boolean) => boolean) {
  const granted = grants(s);
  return WORLD_ACTIONS.filter((a) => want(scopeAllows(s, a), granted.has(keyOf(a))));
}

describe('scopeAllows', () => {
  describe('when compared with the enumerative model over every action of a small world', () => {
    it('never broadens: it allows no action the scope does not grant', () => {
      fc.assert(
        fc.property(scope, (s) => {
          expect(disagreements(s, (allowed, granted) => allowed && !granted)).toEqual([]);
        }),
        { numRuns: 300 },
      );
    });

    it('allows every action the scope grants', () => {
      fc.assert(
        fc.property(scope, (s) => {
          expect(disagreements(s, (allowed, granted) => !allowed && granted)).toEqual([]);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when the action resource contains a wildcard, a traversal or an empty segment', () => {
    it('is never allowed, not even by an entry with the identical pattern', () => {
      const wildResource = fc.oneof(
        pattern.filter((p) => p.includes('*')),
        fc.tuple(resource, fc.constantFrom('*', 'ord*', '**', '*x')).map(([r, w]) => `${r}/${w}`),
        fc.constantFrom(...INVALID_RESOURCES),
      );
      fc.assert(
        fc.property(scope, wildResource, permission, (s, r, perm) => {
          const withSelf: Scope = [...s, { resource: r, permissions: [perm] }];
          expect(scopeAllows(withSelf, { resource: r, permission: perm })).toBe(false);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when the scope is the field case', () => {
    const field: Scope = [
      { resource: 'db/orders', permissions: ['read', 'write'] },
      { resource: 'db/invoices', permissions: ['read'] },
    ];

    it('allows db/orders write and db/invoices read', () => {
      expect(scopeAllows(field, { resource: 'db/orders', permission: 'write' })).toBe(true);
      expect(scopeAllows(field, { resource: 'db/orders', permission: 'read' })).toBe(true);
      expect(scopeAllows(field, { resource: 'db/invoices', permission: 'read' })).toBe(true);
    });

    it.each([
      ['db/customers', 'read'],
      ['db/invoices', 'write'],
      ['db/*', 'read'],
      ['db', 'read'],
      ['db/orders/items', 'read'],
      ['DB/orders', 'read'],
      ['db/orders', 'READ'],
      ['db/\u043erders', 'read'], // Cyrillic о
    ])('refuses %s %s', (r, permission) => {
      expect(scopeAllows(field, { resource: r, permission })).toBe(false);
    });
  });

  describe('when the action resource is not a valid concrete resource', () => {
    // A `*` segment matches one segment by position, so without the concrete-name check
    // it would match "..", "." and an empty segment too: a path traversal.
    it.each<[string, string]>([
      ['a ".." segment', 'files/..'],
      ['a "." segment', 'files/.'],
      ['an empty segment', 'files/'],
    ])('refuses %s matched by a wildcard', (_, r) => {
      const s: Scope = [{ resource: 'files/*', permissions: ['read'] }];
      expect(scopeAllows(s, { resource: r, permission: 'read' })).toBe(false);
    });
  });
});

describe('patternMatches', () => {
  describe('when compared with the enumerative model', () => {
    it('matches exactly the resources of the small world that the pattern spells out to', () => {
      fc.assert(
        fc.property(pattern, (p) => {
          const spelled = new Set(instancesOf(p));
          for (const r of WORLD_RESOURCES) expect(patternMatches(p, r)).toBe(spelled.has(r));
        }),
      );
    });
  });
});

describe('patternWithin', () => {
  describe('when compared with the enumerative model', () => {
    it('holds exactly when every resource the inner pattern spells out to, the outer does too', () => {
      const pair: fc.Arbitrary<readonly [string, string]> = fc.oneof(
        fc.tuple(pattern, pattern),
        pattern.chain((b) => narrowed(b).map((a) => [a, b] as const)),
      );
      fc.assert(
        fc.property(pair, ([a, b]) => {
          const outer = new Set(instancesOf(b));
          expect(patternWithin(a, b)).toBe(instancesOf(a).every((r) => outer.has(r)));
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when patterns are random', () => {
    it('is reflexive', () => {
      fc.assert(
        fc.property(pattern, (p) => {
          expect(patternWithin(p, p)).toBe(true);
        }),
      );
    });

    it('is transitive along any chain of narrowings', () => {
      const chain = pattern.chain((c) =>
        narrowed(c).chain((b) => narrowed(b).map((a) => [a, b, c] as const)),
      );
      fc.assert(
        fc.property(chain, ([a, b, c]) => {
          expect(patternWithin(a, b)).toBe(true);
          expect(patternWithin(b, c)).toBe(true);
          expect(patternWithin(a, c)).toBe(true);
        }),
      );
    });

    it('carries matches outward: within(a, b) and a matches r imply b matches r', () => {
      const triple = pattern.chain((b) =>
        narrowed(b).chain((a) => instance(a).map((r) => [a, b, r] as const)),
      );
      fc.assert(
        fc.property(triple, ([a, b, r]) => {
          expect(patternWithin(a, b)).toBe(true);
          expect(patternMatches(a, r)).toBe(true);
          expect(patternMatches(b, r)).toBe(true);
        }),
      );
      fc.assert(
        fc.property(pattern, pattern, resource, (a, b, r) => {
          if (patternWithin(a, b) && patternMatches(a, r)) expect(patternMatches(b, r)).toBe(true);
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('when the inner pattern is wider than the outer', () => {
    it('is false', () => {
      expect(patternWithin('db/*', 'db/orders')).toBe(false);
      expect(patternWithin('*/orders', 'db/*')).toBe(false);
      expect(patternWithin('db/orders', 'db')).toBe(false);
      expect(patternWithin('db', 'db/*')).toBe(false);
    });
  });
});

describe('scopeWithin', () => {
  describe('when compared with the enumerative model', () => {
    it('holds exactly when the inner scope grants a subset of what the outer grants', () => {
      const pair: fc.Arbitrary<readonly [Scope, Scope]> = fc.oneof(
        fc.tuple(scope, scope),
        scope.chain((outer) => narrowerScope(outer).map((inner) => [inner, outer] as const)),
        scope.chain((outer) => nearScope(outer).map((inner) => [inner, outer] as const)),
        scope.map((inner) => [inner, spelledOut(inner)] as const),
      );
      const seen = { within: 0, outside: 0 };
      fc.assert(
        fc.property(pair, ([inner, outer]) => {
          const within = scopeWithin(inner, outer);
          seen[within ? 'within' : 'outside'] += 1;
          expect(within).toBe(isSubset(grants(inner), grants(outer)));
        }),
        { numRuns: 500 },
      );
      // Both answers occur, so the equivalence is not met by one side alone.
      expect(seen.within).toBeGreaterThan(0);
      expect(seen.outside).toBeGreaterThan(0);
    });
  });

  describe('when the inner scope is within the outer', () => {
    it('allows through the outer every action the inner allows', () => {
      const triple = scope.chain((outer) =>
        narrowerScope(outer).chain((inner) =>
          covered(inner).map((a) => [inner, outer, a] as const),
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

    it('keeps the implication for unrelated random scopes, over every action of the world', () => {
      fc.assert(
        fc.property(scope, scope, (inner, outer) => {
          if (!scopeWithin(inner, outer)) return;
          for (const a of WORLD_ACTIONS) {
            if (scopeAllows(inner, a)) expect(scopeAllows(outer, a)).toBe(true);
          }
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('when the inner scope asks for more', () => {
    it('is false for a wider pattern or an extra permission', () => {
      const outer: Scope = [{ resource: 'db/orders', permissions: ['read'] }];
      expect(scopeWithin([{ resource: 'db/*', permissions: ['read'] }], outer)).toBe(false);
      expect(scopeWithin([{ resource: 'db/orders', permissions: ['read', 'write'] }], outer)).toBe(
        false,
      );
    });

    it('is false for a wildcard that the outer covers only name by name', () => {
      const outer: Scope = [
        { resource: 'db/orders', permissions: ['read'] },
        { resource: 'db/invoices', permissions: ['read'] },
      ];
      expect(scopeWithin([{ resource: 'db/*', permissions: ['read'] }], outer)).toBe(false);
    });
  });
});

describe('normaliseScope', () => {
  describe('when the scope is valid', () => {
    it('sorts and de-duplicates permissions and keeps wildcard patterns', () => {
      expect(
        normaliseScope([
          { resource: 'db/*', permissions: ['write', 'read', 'write'] },
          { resource: 'kv/app:prod@eu', permissions: ['get'] },
        ]),
      ).toEqual([
        { resource: 'db/*', permissions: ['read', 'write'] },
        { resource: 'kv/app:prod@eu', permissions: ['get'] },
      ]);
    });
  });

  describe('when compared with the enumerative model', () => {
    it('grants exactly what the scope it was given grants', () => {
      fc.assert(
        fc.property(scope, (s) => {
          expect(grants(normaliseScope(s))).toEqual(grants(s));
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when a resource is not a safe name', () => {
    it.each([
      ['a ".." segment', 'db/../orders'],
      ['a "." segment', 'db/./orders'],
      ['an empty segment', 'db//orders'],
      ['a leading slash', '/db/orders'],
      ['a trailing slash', 'db/orders/'],
      ['an empty resource', ''],
      ['a Cyrillic о confusable', 'db/\u043erders'],
      ['a non-ASCII letter', 'db/ordérs'],
      ['a space', 'db/my orders'],
      ['a partial wildcard', 'db/ord*'],
      ['a double wildcard', 'db/**'],
      ['a backslash', 'db\\orders'],
      ['33 segments', Array.from({ length: 33 }, () => 'a').join('/')],
      ['a 129-character segment', `db/${'x'.repeat(129)}`],
    ])('refuses %s with INVALID_SCOPE', (_, r) => {
      expectCode(() => normaliseScope([{ resource: r, permissions: ['read'] }]), 'INVALID_SCOPE');
    });
  });

  describe('when permissions or entries are missing or malformed', () => {
    it.each<[string, Scope]>([
      ['an empty scope', []],
      ['an empty permission list', [{ resource: 'db/orders', permissions: [] }]],
      ['an empty permission', [{ resource: 'db/orders', permissions: [''] }]],
      ['a permission with a space', [{ resource: 'db/orders', permissions: ['read all'] }]],
      ['a wildcard permission', [{ resource: 'db/orders', permissions: ['*'] }]],
    ])('refuses %s with INVALID_SCOPE', (_, s) => {
      expectCode(() => normaliseScope(s), 'INVALID_SCOPE');
    });
  });
});
