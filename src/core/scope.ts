import { Type, type Static } from '@sinclair/typebox';
import { CountersignError, type CoreErrorCode } from './errors.js';
import { Strict, type Frozen } from './schema.js';
import {
  ArgumentConstraintsSchema,
  constraintsAllow,
  constraintsWithin,
  normaliseConstraints,
} from './scope-constraints.js';

export {
  ArgumentConstraintSchema,
  ArgumentConstraintsSchema,
  ArgumentValueSchema,
  type ArgumentConstraint,
  type ArgumentConstraints,
  type ArgumentValue,
} from './scope-constraints.js';

/**
 * Scope algebra. A resource is a `/`-separated name; in a scope or policy pattern a
 * `*` segment matches exactly one segment. Actions name concrete resources only, so
 * a redemption can never ask for more than a pattern grants. An entry may also
 * constrain the action's arguments (`scope-constraints.ts`), which only narrows it.
 *
 * The limits, stated once. The schemas below bound lengths and counts wherever a scope
 * or an action is read (request bodies, warrant claims, receipts); the segment and
 * permission syntax is checked by `normaliseScope` and `scopeAllows`, which answer
 * with `INVALID_SCOPE` or a refusal rather than a schema failure.
 */
const MAX_RESOURCE_LENGTH = 1024;
const MAX_SEGMENTS = 32;
const MAX_PERMISSION_LENGTH = 64;
const MAX_PERMISSIONS_PER_ENTRY = 64;
const MAX_SCOPE_ENTRIES = 256;

const SEGMENT = /^[A-Za-z0-9._:@=+-]{1,128}$/;
const PERMISSION = new RegExp(`^[A-Za-z0-9._:-]{1,${MAX_PERMISSION_LENGTH}}$`);

/** A resource name or pattern, as long as any scope or action may name. */
export const ResourceSchema = Type.String({ minLength: 1, maxLength: MAX_RESOURCE_LENGTH });
export const PermissionSchema = Type.String({ minLength: 1, maxLength: MAX_PERMISSION_LENGTH });

export const ScopeEntrySchema = Type.Object(
  {
    resource: ResourceSchema,
    permissions: Type.Array(PermissionSchema, {
      minItems: 1,
      maxItems: MAX_PERMISSIONS_PER_ENTRY,
    }),
    constraints: Type.Optional(ArgumentConstraintsSchema),
  },
  Strict,
);
export const ScopeSchema = Type.Array(ScopeEntrySchema, {
  minItems: 1,
  maxItems: MAX_SCOPE_ENTRIES,
});

export type ScopeEntry = Frozen<Static<typeof ScopeEntrySchema>>;
export type Scope = readonly ScopeEntry[];

export interface ConcreteAction {
  readonly resource: string;
  readonly permission: string;
  /** The arguments the action presents; only the names an entry constrains are read. */
  readonly arguments?: Readonly<Record<string, unknown>>;
}

function fail(message: string): CountersignError<CoreErrorCode> {
  return new CountersignError('INVALID_SCOPE', message);
}

function segments(resource: string, allowWildcard: boolean): string[] {
  const parts = resource.split('/');
  if (resource.length > MAX_RESOURCE_LENGTH || parts.length > MAX_SEGMENTS) {
    throw fail('resource is too long');
  }
  for (const p of parts) {
    if (p === '*' && allowWildcard) continue;
    // '.' and '..' are refused so that no consumer can read a path traversal into a name.
    if (!SEGMENT.test(p) || p === '.' || p === '..') {
      throw fail(`invalid resource segment ${JSON.stringify(p.slice(0, 64))}`);
    }
  }
  return parts;
}

/** Validates a resource pattern (may contain `*` segments). */
export function assertPattern(pattern: string): void {
  segments(pattern, true);
}

/** Validates a concrete resource name (no wildcards). */
export function assertResource(resource: string): void {
  segments(resource, false);
}

export function assertPermission(permission: string): void {
  if (!PERMISSION.test(permission)) {
    throw fail(`invalid permission ${JSON.stringify(permission.slice(0, 64))}`);
  }
}

/** True when the concrete `resource` is matched by `pattern`. */
export function patternMatches(pattern: string, resource: string): boolean {
  const p = pattern.split('/');
  const r = resource.split('/');
  if (p.length !== r.length) return false;
  return p.every((seg, i) => seg === '*' || seg === r[i]);
}

/** True when every resource `inner` can match is also matched by `outer`. */
export function patternWithin(inner: string, outer: string): boolean {
  const a = inner.split('/');
  const b = outer.split('/');
  if (a.length !== b.length) return false;
  return b.every((seg, i) => seg === '*' || seg === a[i]);
}

/**
 * True when some resource is matched by both patterns: as long as each other, and each
 * segment equal or `*` on either side. A policy rule whose patterns overlap a requested
 * pattern governs part of what it asks for, even when it does not contain all of it.
 */
export function patternsOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  if (x.length !== y.length) return false;
  return x.every((seg, i) => seg === '*' || y[i] === '*' || seg === y[i]);
}

/**
 * Validates a scope and returns it with permissions, constraint names and constraint
 * values sorted and de-duplicated. What it returns satisfies `ScopeSchema`, so a
 * warrant signed over it always parses back, and normalising it again changes nothing.
 */
export function normaliseScope(scope: Scope): Scope {
  if (scope.length === 0) throw fail('scope must name at least one resource');
  if (scope.length > MAX_SCOPE_ENTRIES) throw fail('scope has too many entries');
  return scope.map((e) => {
    assertPattern(e.resource);
    if (e.permissions.length === 0) throw fail(`resource ${e.resource} has no permissions`);
    e.permissions.forEach(assertPermission);
    const permissions = [...new Set(e.permissions)].sort();
    if (permissions.length > MAX_PERMISSIONS_PER_ENTRY) {
      throw fail(`resource ${e.resource} has too many permissions`);
    }
    if (e.constraints === undefined) return { resource: e.resource, permissions };
    return {
      resource: e.resource,
      permissions,
      constraints: normaliseConstraints(e.resource, e.constraints),
    };
  });
}

function isConcrete(resource: string): boolean {
  try {
    segments(resource, false);
    return true;
  } catch {
    return false;
  }
}

/**
 * The core no-broadening check: is this concrete action inside the scope? An action
 * resource that is not a valid concrete name (a wildcard, `..`, an empty segment) is
 * never inside any scope, so a `*` can never be stretched over a traversal. An entry
 * with constraints allows the action only if its arguments satisfy every one of them.
 */
export function scopeAllows(scope: Scope, action: ConcreteAction): boolean {
  if (!isConcrete(action.resource)) return false;
  for (const e of scope) {
    if (
      e.permissions.includes(action.permission) &&
      patternMatches(e.resource, action.resource) &&
      constraintsAllow(e.constraints, action.arguments)
    ) {
      return true;
    }
  }
  return false;
}

/**
 * True when each permission of each entry of `inner` is covered by a single entry of
 * `outer` with that permission, a pattern containing the entry's, and constraints the
 * entry's imply. That makes it sound (whatever `inner` allows, `outer` allows) but not
 * complete once constraints appear: `table in {a, b}` is not within the pair of entries
 * `table in {a}` and `table in {b}`, though together they allow the same calls. A
 * spurious "not within" only refuses a request; a spurious "within" would broaden it.
 */
export function scopeWithin(inner: Scope, outer: Scope): boolean {
  return inner.every((e) =>
    e.permissions.every((perm) =>
      outer.some(
        (o) =>
          o.permissions.includes(perm) &&
          patternWithin(e.resource, o.resource) &&
          constraintsWithin(e.constraints, o.constraints),
      ),
    ),
  );
}
