import { patternWithin, type Scope } from '../core/scope.js';

/**
 * What the approved scopes cover, as sets built once per subject and target, so
 * that judging an observed grant is a look-up rather than a scan of every scope.
 */

/** The union of the scopes of some grant-action warrants. */
export interface Coverage {
  /** `permission NUL resource` for every scope entry. */
  readonly exact: Set<string>;
  /** Per permission, the entry patterns that contain a `*` segment. */
  readonly wildcard: Map<string, Set<string>>;
}

export const hasWildcard = (pattern: string): boolean => pattern.split('/').includes('*');

export const newCoverage = (): Coverage => ({ exact: new Set(), wildcard: new Map() });

export function addScope(c: Coverage, scope: Scope): void {
  for (const e of scope) {
    for (const p of e.permissions) {
      c.exact.add(`${p}\u0000${e.resource}`);
      if (!hasWildcard(e.resource)) continue;
      const set = c.wildcard.get(p) ?? new Set<string>();
      set.add(e.resource);
      c.wildcard.set(p, set);
    }
  }
}

/** True when some scope in `c` lists `permission` on a pattern containing `resource`. */
export function coverageCovers(
  c: Coverage | null | undefined,
  resource: string,
  permission: string,
): boolean {
  if (!c) return false;
  if (c.exact.has(`${permission}\u0000${resource}`)) return true;
  for (const pattern of c.wildcard.get(permission) ?? []) {
    if (patternWithin(resource, pattern)) return true;
  }
  return false;
}

/** True when some entry of `scope` lists `permission` on a pattern containing `resource`. */
export const scopeCovers = (scope: Scope, resource: string, permission: string): boolean =>
  scope.some((e) => e.permissions.includes(permission) && patternWithin(resource, e.resource));
