/**
 * What changed between two request bodies (this one and the newest approved request
 * for the same subject and action): a flat list of JSON paths with their old and new
 * values. Per-request noise (nonce, creation and pending-expiry instants) is left out.
 */
import { isObj } from './unknown.js';

export const DIFF_IGNORED: readonly string[] = ['nonce', 'createdAt', 'pendingExpiresAt'];

export interface Change {
  readonly path: string;
  readonly kind: 'added' | 'removed' | 'changed';
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Scope entries are matched by resource, not by position, so a reorder is no change. */
function keyed(path: string, v: unknown[]): Map<string, unknown> | undefined {
  if (path !== 'scope' || !v.every((e) => isObj(e) && typeof e.resource === 'string')) {
    return undefined;
  }
  const m = new Map<string, unknown>();
  for (const e of v as Record<string, unknown>[]) m.set(e.resource as string, e);
  return m.size === v.length ? m : undefined;
}

function walk(path: string, a: unknown, b: unknown, out: Change[], depth: number): void {
  if (Object.is(a, b)) return;
  if (depth < 16 && isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      if (depth === 0 && DIFF_IGNORED.includes(k)) continue;
      const p = path === '' ? k : `${path}.${k}`;
      if (!Object.hasOwn(a, k)) out.push({ path: p, kind: 'added', after: b[k] });
      else if (!Object.hasOwn(b, k)) out.push({ path: p, kind: 'removed', before: a[k] });
      else walk(p, a[k], b[k], out, depth + 1);
    }
    return;
  }
  if (depth < 16 && Array.isArray(a) && Array.isArray(b)) {
    const ka = keyed(path, a);
    const kb = keyed(path, b);
    if (ka && kb) {
      for (const [r, e] of ka) {
        const p = `${path}[${JSON.stringify(r)}]`;
        if (!kb.has(r)) out.push({ path: p, kind: 'removed', before: e });
        else walk(p, e, kb.get(r), out, depth + 1);
      }
      for (const [r, e] of kb) {
        if (!ka.has(r))
          out.push({ path: `${path}[${JSON.stringify(r)}]`, kind: 'added', after: e });
      }
      return;
    }
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const p = `${path}[${i}]`;
      if (i >= a.length) out.push({ path: p, kind: 'added', after: b[i] });
      else if (i >= b.length) out.push({ path: p, kind: 'removed', before: a[i] });
      else walk(p, a[i], b[i], out, depth + 1);
    }
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  out.push({ path: path === '' ? '$' : path, kind: 'changed', before: a, after: b });
}

/** The changes from `before` to `after`, in path order. */
export function diffBodies(before: unknown, after: unknown): Change[] {
  const out: Change[] = [];
  walk('', before, after, out, 0);
  return out;
}

/** A short, single-line text of a JSON value for the diff table. */
export function valueText(v: unknown): string {
  if (v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? typeof v;
}
