import fc from 'fast-check';
import type {
  ArgumentConstraint,
  ArgumentConstraints,
  ConcreteAction,
  Scope,
  ScopeEntry,
} from '../../src/core/scope.js';

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
 * finite world agrees with inclusion over every possible name. Scopes with argument
 * constraints mean sets of (resource, permission, arguments) triples; see below.
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

/**
 * The set of concrete actions without arguments that `scope` grants, by enumeration.
 * An entry with constraints grants none of them: each needs an argument they lack.
 */
export function grants(scope: Scope): ReadonlySet<string> {
  const out = new Set<string>();
  for (const e of scope) {
    if (e.constraints !== undefined) continue;
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

/** Replaces every `*` of `p` with a name: a resource that `p` matches. */
export const instance = (p: string): fc.Arbitrary<string> =>
  fc
    .tuple(...p.split('/').map((seg) => (seg === '*' ? name : fc.constant(seg))))
    .map((s) => s.join('/'));

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

/**
 * Arguments. Generated constraints name only {@link ARG_KEYS} and list only
 * {@link ARG_VALUES}. In the world each key is absent or holds one of those values or
 * one of two that no constraint lists: `"1"`, the string twin of `1`, which stands in
 * for every unlisted value, and `["x"]`, a list holding a listed value, which must
 * still match nothing. A value is admitted when its JSON spelling is that of a listed
 * value: JSON tells `1` from `"1"` and a list from its element, without `===`.
 */
export const ARG_KEYS = ['k1', 'k2'] as const;
export const ARG_VALUES = ['x', 'y', 1, true] as const;
const WORLD_ARG_VALUES: readonly unknown[] = [...ARG_VALUES, '1', ['x']];
/** Patterns of constrained scopes have at most this many segments, to keep the world small. */
const MAX_CONSTRAINED_SEGMENTS = 2;

type Arguments = Readonly<Record<string, unknown>>;

/** Every argument map of the world: each key absent or holding a world value. */
export const WORLD_ARGUMENTS: readonly Arguments[] = ARG_KEYS.reduce<Arguments[]>(
  (maps, key) => maps.flatMap((m) => [m, ...WORLD_ARG_VALUES.map((v) => ({ ...m, [key]: v }))]),
  [{}],
);

/** Every action of the world with arguments, on resources up to one segment longer than any constrained pattern. */
export const WORLD_ARG_ACTIONS: readonly ConcreteAction[] = WORLD_RESOURCES.filter(
  (r) => r.split('/').length <= MAX_CONSTRAINED_SEGMENTS + 1,
).flatMap((resource) =>
  WORLD_PERMS.flatMap((permission) =>
    WORLD_ARGUMENTS.map((args) => ({ resource, permission, arguments: args })),
  ),
);

const argsKey = (args: Arguments | undefined): string =>
  JSON.stringify(
    ARG_KEYS.filter((k) => args !== undefined && k in args).map((k) => [k, args?.[k]]),
  );

export const keyWithArguments = (a: ConcreteAction): string =>
  `${keyOf(a)} ${argsKey(a.arguments)}`;

function admits(constraints: ArgumentConstraints | undefined, args: Arguments): boolean {
  return Object.keys(constraints ?? {}).every((k) => {
    const listed = (constraints?.[k]?.in ?? []).map((v) => JSON.stringify(v));
    return k in args && listed.includes(JSON.stringify(args[k]));
  });
}

/** The set of actions of the world with arguments that `scope` grants, by enumeration. */
export function grantsWithArguments(scope: Scope): ReadonlySet<string> {
  const out = new Set<string>();
  for (const e of scope) {
    const admitted = WORLD_ARGUMENTS.filter((args) => admits(e.constraints, args));
    for (const resource of instancesOf(e.resource)) {
      for (const permission of e.permissions) {
        for (const args of admitted) {
          out.add(keyWithArguments({ resource, permission, arguments: args }));
        }
      }
    }
  }
  return out;
}

/** An entry with `constraints` when there are any, and without the key when not. */
const entry = (
  resource: string,
  perms: readonly string[],
  constraints: ArgumentConstraints | undefined,
): ScopeEntry =>
  constraints === undefined
    ? { resource, permissions: perms }
    : { resource, permissions: perms, constraints };

/** An `in` list unsorted and sometimes repeated, as a caller may send it. */
const inList: fc.Arbitrary<ArgumentConstraint> = fc
  .array(fc.constantFrom(...ARG_VALUES), { minLength: 1, maxLength: 4 })
  .map((values) => ({ in: values }));

/** One constraint per key of `keys`, from `each(key)`; none at all when every one is absent. */
const constraintsOver = (
  each: (key: string) => fc.Arbitrary<ArgumentConstraint | undefined>,
): fc.Arbitrary<ArgumentConstraints | undefined> =>
  fc.tuple(...ARG_KEYS.map(each)).map((cs) => {
    const present = ARG_KEYS.flatMap((k, i) => (cs[i] === undefined ? [] : [[k, cs[i]] as const]));
    return present.length === 0 ? undefined : Object.fromEntries(present);
  });

const someConstraints = constraintsOver(() => fc.option(inList, { nil: undefined }));

const shortPattern = fc
  .array(patternSeg, { minLength: 1, maxLength: MAX_CONSTRAINED_SEGMENTS })
  .map((s) => s.join('/'));

/** Scopes whose entries often constrain k1, k2 or both. */
export const constrainedScope: fc.Arbitrary<Scope> = fc.array(
  fc
    .tuple(shortPattern, permissions, someConstraints)
    .map(([resource, perms, constraints]) => entry(resource, perms, constraints)),
  { minLength: 1, maxLength: 4 },
);

/**
 * Constraints that imply `c`: a non-empty subset of each listed value list, and maybe
 * a constraint on a key `c` leaves free.
 */
const narrowedConstraints = (c: ArgumentConstraints | undefined) =>
  constraintsOver((k) => {
    const own = c !== undefined && Object.hasOwn(c, k) ? c[k] : undefined;
    if (own === undefined) return fc.option(inList, { nil: undefined });
    return fc.subarray([...new Set(own.in)], { minLength: 1 }).map((values) => ({ in: values }));
  });

/** A scope each of whose entries narrows one entry of `outer`, arguments included. */
export const narrowerConstrainedScope = (outer: Scope): fc.Arbitrary<Scope> =>
  fc.array(
    fc
      .constantFrom(...outer)
      .chain((e) =>
        fc
          .tuple(
            narrowed(e.resource),
            fc.subarray([...new Set(e.permissions)], { minLength: 1 }),
            narrowedConstraints(e.constraints),
          )
          .map(([resource, perms, constraints]) => entry(resource, perms, constraints)),
      ),
    { minLength: 1, maxLength: 4 },
  );

/** Entries that narrow an entry of `outer` by pattern but ask for any permissions and arguments. */
export const nearConstrainedScope = (outer: Scope): fc.Arbitrary<Scope> =>
  fc.array(
    fc
      .constantFrom(...outer)
      .chain((e) =>
        fc
          .tuple(narrowed(e.resource), permissions, someConstraints)
          .map(([resource, perms, constraints]) => entry(resource, perms, constraints)),
      ),
    { minLength: 1, maxLength: 4 },
  );

/** An action, arguments included, that some entry of `s` allows. */
export const coveredWithArguments = (s: Scope): fc.Arbitrary<ConcreteAction> =>
  fc.constantFrom(...s).chain((e) =>
    fc
      .tuple(
        instance(e.resource),
        fc.constantFrom(...e.permissions),
        fc.tuple(
          ...ARG_KEYS.map((k) => {
            const own = e.constraints !== undefined && Object.hasOwn(e.constraints, k);
            const values = own ? (e.constraints?.[k]?.in ?? []) : WORLD_ARG_VALUES;
            return own
              ? fc.constantFrom(...values)
              : fc.option(fc.constantFrom(...values), { nil: undefined });
          }),
        ),
      )
      .map(([resource, permission, values]) => ({
        resource,
        permission,
        arguments: Object.fromEntries(
          ARG_KEYS.flatMap((k, i) => (values[i] === undefined ? [] : [[k, values[i]]])),
        ),
      })),
  );
