/**
 * Reading JSON the console has not yet trusted (answers, bundle leaves, the review's
 * body before its digest is checked): one set of guards instead of one per module.
 */
export type Obj = Readonly<Record<string, unknown>>;

export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v[k]` when `v` is an object that owns `k` (never an inherited property). */
export const member = (v: unknown, k: string): unknown =>
  isObj(v) && Object.hasOwn(v, k) ? v[k] : undefined;

export const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);

export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
