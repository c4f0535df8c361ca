import fc from 'fast-check';
import type { ConcreteAction, Scope } from '../../src/core/scope.js';

/**
 * An enumerative specification of the scope algebra, written without looking at
 * src/core/scope.ts: a scope means the set of concrete (resource, permission) pairs
 * it grants, found by spelling out every `*` over a small world of names. The tests
 * compare scopeAllows, scopeWithin and normaliseScope with set membership and
 * inclusion over that world, so they never check the code against a copy of itself.
 *
 * Generated scopes name only {@link NAMES} and {@link PERMS}. The world adds one
 * fresh name and one fresh permission that no scope mentions: each stands in for
 * all the names (permissions) a scope does not list. With it, `a/*` grants `a/z`,
 * which no list of concrete entries over `a` and `b` covers, so inclusion in this
 * finite world agrees with inclusion over every possible name.
 */
export const NAMES = ['a', 'b'] as const;
export const PERMS = ['read', 'write'] as const;
const FRESH_NAME = 'z';
const FRESH_PERM = 'admin';
/** Generated patterns have at most this many segments; the world has one more. */
const MAX_SEGMENTS = 3;

const WORLD_NAMES: readonly string[] = [...NAMES, FRESH_NAME];
const WORLD_PERMS: readonly string[] = [...PERMS, FRESH_PERM];

/** Every way to fill `length` segments from `choices(i)`, joined with `/`. */
function spell(length: number, choices: (i: number) => readonly string[]): string[] {
  let out: string[][] = [[]];
  for (let i = 0; i < length; i++) {
    out = out.flatMap((prefix) => choices(i).map((c) => [...prefix, c]));
  }
  return out.map((segs) => segs.join('/'));
}

/** Every concrete resource of the world: one to MAX_SEGMENTS + 1 segments. */
export const WORLD_RESOURCES: readonly string[] = Array.from({ length: MAX_SEGMENTS + 1 }, (_, i) =>
  spell(i + 1, () => WORLD_NAMES),
).flat();

/** Every concrete action of the world. */
export const WORLD_ACTIONS: readonly ConcreteAction[] = WORLD_RESOURCES.flatMap((resource) =>
  WORLD_PERMS.map((permission) => ({ resource, permission })),
);

/** The concrete resources of the world that `pattern` stands for. */
export function instancesOf(pattern: string, names: readonly string[] = WORLD_NAMES): string[] {
  const segs = pattern.split('/');
  return spell(segs.length, (i) => (segs[i] === '*' ? names : [segs[i] as string]));
}

export const keyOf = (a: ConcreteAction): string => `${a.permission} ${a.resource}`;

/** The set of concrete actions that `scope` grants, by enumeration. */
export function grants(scope: Scope): ReadonlySet<string> {
  const out = new Set<string>();
  for (const e of scope) {
    for (const resource of instancesOf(e.resource)) {
      for (const permission of e.permissions) out.add(keyOf({ resource, permission }));
    }
  }
  return out;
}

export const isSubset = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean =>
  [...a].every((x) => b.has(x));

/**
 * Resources an action must never be allowed to name, whatever the scope: traversals,
 * empty segments and wildcards, each next to a name a wildcard would otherwise match.
 */
export const INVALID_RESOURCES: readonly string[] = [
  'a/..',
  'a/.',
  '..',
  'a/../b',
  'a/',
  '/a',
  'a//b',
  '',
  '*',
  'a/*',
  '*/b',
  'a/**',
  'a/b*',
  'a\\b',
];

export const name = fc.constantFrom(...NAMES);
export const patternSeg = fc.oneof(name, fc.constant('*'));
export const pattern = fc
  .array(patternSeg, { minLength: 1, maxLength: MAX_SEGMENTS })
  .map((s) => s.join('/'));
export const resource = fc
  .array(name, { minLength: 1, maxLength: MAX_SEGMENTS })
  .map((s) => s.join('/'));
export const permission = fc.constantFrom(...PERMS);
/** Permissions unsorted and sometimes repeated, as a caller may send them. */
export const permissions = fc.array(permission, { minLength: 1, maxLength: 4 });
export const scope: fc.Arbitrary<Scope> = fc.array(fc.record({ resource: pattern, permissions }), {
  minLength: 1,
  maxLength: 4,
});

/** Replaces some `*` segments of `p` with names: a pattern within `p`. */
export const narrowed = (p: string): fc.Arbitrary<string> =>
  fc
    .tuple(...p.split('/').map((seg) => (seg === '*' ? patternSeg : fc.constant(seg))))
    .map((s) => s.join('/'));

/** A scope each of whose entries narrows an entry of `outer`. */
export const narrowerScope = (outer: Scope): fc.Arbitrary<Scope> =>
  fc.array(
    fc.constantFrom(...outer).chain((e) =>
      fc.record({
        resource: narrowed(e.resource),
        permissions: fc.subarray([...new Set(e.permissions)], { minLength: 1 }),
      }),
    ),
    { minLength: 1, maxLength: 4 },
  );

/** `s` with every `*` spelled out over the generated names only: it misses the fresh name. */
export const spelledOut = (s: Scope): Scope =>
  s.flatMap((e) =>
    instancesOf(e.resource, NAMES).map((r) => ({ resource: r, permissions: e.permissions })),
  );
