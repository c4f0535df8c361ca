/** A claim path: a top-level claim name, or a dotted path into nested objects. */
export type ClaimPath = string;

const MAX_SEGMENTS = 16;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads a claim by dotted path. Claim names may themselves contain dots (Kubernetes puts
 * its facts under `"kubernetes.io"`), so `kubernetes.io.namespace` is resolved by trying
 * every way of grouping the segments into own keys: `{"kubernetes.io": {"namespace": …}}`
 * and `{"kubernetes": {"io": {"namespace": …}}}` both answer.
 *
 * When two groupings reach different values the path is ambiguous and reads as
 * `undefined`, so a matcher fails closed instead of picking one. Only own properties of
 * plain objects are followed: `__proto__`, `constructor` and array indices never resolve.
 *
 * @example
 * readClaim({ 'kubernetes.io': { namespace: 'prod' } }, 'kubernetes.io.namespace') // 'prod'
 */
export function readClaim(claims: Readonly<Record<string, unknown>>, path: ClaimPath): unknown {
  const segments = path.split('.');
  if (path.length === 0 || segments.length > MAX_SEGMENTS) return undefined;
  const found: unknown[] = [];
  collect(claims, segments, found);
  const [first, ...rest] = found;
  return rest.every((v) => v === first) ? first : undefined;
}

function collect(node: unknown, segments: readonly string[], found: unknown[]): void {
  if (!isPlainObject(node)) return;
  for (let k = segments.length; k >= 1; k--) {
    const key = segments.slice(0, k).join('.');
    if (!Object.hasOwn(node, key)) continue;
    const value = node[key];
    if (k === segments.length) found.push(value);
    else collect(value, segments.slice(k), found);
  }
}
