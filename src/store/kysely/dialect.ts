import type { Kysely, RawBuilder } from 'kysely';
import type { Dialect } from '../../service/ports/store.js';
import type { Database } from '../schema.js';

/**
 * What differs between the dialects inside otherwise shared repositories: the locks a
 * read-then-write use case takes first (no-ops on SQLite, where BEGIN IMMEDIATE already
 * serialises every writer) and the SQL that reads a leaf's own request link (indexed by
 * migration 006, so each must stay byte for byte what the index declares).
 */
export interface DialectSql {
  readonly name: Dialect;
  lockLog(db: Kysely<Database>): Promise<void>;
  /** `lockLog` only if no other transaction holds it: false at once when one does. */
  tryLockLog(db: Kysely<Database>): Promise<boolean>;
  lockKeyRing(db: Kysely<Database>): Promise<void>;
  lockRequest(db: Kysely<Database>, id: string): Promise<void>;
  /** Whether a read may lock the rows it returns (`SELECT … FOR UPDATE`); SQLite's writers are serial. */
  readonly rowLocks: boolean;
  leafRequest(): RawBuilder<string | null>;
  /** A leaf's `data.id`, as migration 018 indexes it for finding events. */
  leafDataId(): RawBuilder<string | null>;
}
