/** Reading the review's `body`, which stays `unknown` until its digest is checked. */
export type Obj = Readonly<Record<string, unknown>>;
export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const field = (o: unknown, k: string): unknown =>
  isObj(o) && Object.hasOwn(o, k) ? o[k] : undefined;
export const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
