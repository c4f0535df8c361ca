import type { NhiId } from '../../core/ids.js';
import type { Nhi } from '../../nhi/nhi.js';

export interface NhiReader {
  get(id: NhiId): Promise<Nhi | null>;
  /** The NHI whose comparison key (`nhiKey`) is `key`, whatever its spelling. */
  getByKey(key: string): Promise<Nhi | null>;
}

export interface NhiWriter extends NhiReader {
  insert(nhi: Nhi): Promise<void>;
  /** Moves the owner from `from` to `to`; false when it was no longer `from`. */
  setOwner(id: NhiId, from: string, to: string): Promise<boolean>;
}
