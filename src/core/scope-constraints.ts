import { Type, type Static } from '@sinclair/typebox';
import { CountersignError, type CoreErrorCode } from './errors.js';
import { Strict, type Frozen } from './schema.js';

/**
 * Per-argument constraints on a scope entry, for "for session" warrants (issue 14): an
 * entry `{ resource, permissions, constraints: { table: { in: ['orders', 'invoices'] } } }`
 * allows its actions only when the action's `table` argument is one of those values.
 * A constraint only ever narrows its entry; an entry without constraints ignores
 * arguments, as entries always did.
 *
 * Values are scalars compared by type and `===`: `1` never matches `"1"`, and a list or
 * an object matches nothing, so no consumer needs to agree with us on deep equality or
 * coercion. `scope.ts` is the entry point; this module holds the argument half.
 */
const MAX_VALUE_LENGTH = 1024;
const MAX_VALUES = 64;
const MAX_CONSTRAINTS = 16;
const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

export const ArgumentValueSchema = Type.Union([
  Type.String({ maxLength: MAX_VALUE_LENGTH }),
  Type.Number(),
  Type.Boolean(),
]);
export const ArgumentConstraintSchema = Type.Object(
  { in: Type.Array(ArgumentValueSchema, { minItems: 1, maxItems: MAX_VALUES }) },
  Strict,
);
/**
 * A string-keyed Record is only `patternProperties`; without `additionalProperties:
 * false` a key that fails the name pattern would pass unchecked.
 */
export const ArgumentConstraintsSchema = Type.Record(
  Type.String({ pattern: ARG_NAME.source }),
  ArgumentConstraintSchema,
  { minProperties: 1, maxProperties: MAX_CONSTRAINTS, ...Strict },
);

export type ArgumentValue = Static<typeof ArgumentValueSchema>;
export type ArgumentConstraint = Frozen<Static<typeof ArgumentConstraintSchema>>;
export type ArgumentConstraints = Frozen<Static<typeof ArgumentConstraintsSchema>>;

function fail(message: string): CountersignError<CoreErrorCode> {
  return new CountersignError('INVALID_SCOPE', message);
}

const isRecord = (v: unknown): v is Readonly<Record<string, unknown>> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value an argument may be compared with; NaN and the infinities are not. */
function isArgumentValue(v: unknown): v is ArgumentValue {
  return (
    typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
  );
}

/** An own data property only: an inherited `table` or a getter never stands for an argument. */
function ownValue(args: unknown, name: string): unknown {
  if (!isRecord(args)) return undefined;
  return Object.getOwnPropertyDescriptor(args, name)?.value;
}

function ownConstraint(c: ArgumentConstraints, name: string): ArgumentConstraint | undefined {
  return Object.hasOwn(c, name) ? c[name] : undefined;
}

/** `===` rather than `includes`, whose SameValueZero would let a NaN match a NaN. */
const listed = (values: readonly ArgumentValue[], v: unknown): boolean =>
  values.some((x) => x === v);

/** Type first (boolean, number, string), then value; strings by UTF-16 code units. */
function compareValues(a: ArgumentValue, b: ArgumentValue): number {
  if (typeof a !== typeof b) return typeof a < typeof b ? -1 : 1;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return Number(a) - Number(b);
}

function normaliseValue(name: string, v: unknown): ArgumentValue {
  if (!isArgumentValue(v)) {
    throw fail(
      `constraint on ${name} lists a value that is not a string, finite number or boolean`,
    );
  }
  // A lone surrogate cannot be canonicalised (RFC 8785), so the warrant could not be signed.
  if (typeof v === 'string' && (v.length > MAX_VALUE_LENGTH || !v.isWellFormed())) {
    throw fail(`constraint on ${name} lists a string that is too long or not well-formed`);
  }
  // -0 === 0 already; writing 0 keeps the signed form and the sort free of the difference.
  return v === 0 ? 0 : v;
}

function normaliseConstraint(name: string, raw: unknown): ArgumentConstraint {
  if (!ARG_NAME.test(name)) {
    throw fail(`invalid argument name ${JSON.stringify(name.slice(0, 64))}`);
  }
  // A member we do not know (a hoped-for `not_in`) would be dropped, widening the entry.
  if (!isRecord(raw) || !Array.isArray(raw.in) || Object.keys(raw).length !== 1) {
    throw fail(`constraint on ${name} must be exactly { in: [...] }`);
  }
  const values = raw.in.map((v: unknown) => normaliseValue(name, v)).sort(compareValues);
  const unique = values.filter((v, i) => i === 0 || v !== values[i - 1]);
  if (unique.length === 0) throw fail(`constraint on ${name} allows no value`);
  if (unique.length > MAX_VALUES) throw fail(`constraint on ${name} lists too many values`);
  return { in: unique };
}

/**
 * Validates the constraints of the entry on `resource` and returns them with names and
 * values sorted and values de-duplicated. `Object.fromEntries` defines each name as an
 * own property, so even a `__proto__` argument stays an argument.
 */
export function normaliseConstraints(resource: string, raw: unknown): ArgumentConstraints {
  if (!isRecord(raw)) throw fail(`constraints of ${resource} must be an object`);
  const entries = Object.entries(raw).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) throw fail(`constraints of ${resource} are empty`);
  if (entries.length > MAX_CONSTRAINTS) throw fail(`${resource} has too many constraints`);
  return Object.fromEntries(entries.map(([name, c]) => [name, normaliseConstraint(name, c)]));
}

/**
 * True when `args` satisfies every constraint: each constrained name is an own property
 * holding a scalar listed for it. A missing name, a list, an object or NaN never does.
 */
export function constraintsAllow(
  constraints: ArgumentConstraints | undefined,
  args: unknown,
): boolean {
  if (constraints === undefined) return true;
  return Object.entries(constraints).every(([name, c]) => {
    const v = ownValue(args, name);
    return isArgumentValue(v) && listed(c.in, v);
  });
}

/**
 * True when `inner` implies `outer`: every name `outer` constrains, `inner` constrains
 * to a subset of its values. Names only `inner` constrains narrow it further.
 */
export function constraintsWithin(
  inner: ArgumentConstraints | undefined,
  outer: ArgumentConstraints | undefined,
): boolean {
  if (outer === undefined) return true;
  return Object.entries(outer).every(([name, o]) => {
    const i = inner === undefined ? undefined : ownConstraint(inner, name);
    return i !== undefined && i.in.every((v) => listed(o.in, v));
  });
}
