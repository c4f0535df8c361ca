import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../../service/ports/store.js';

/**
 * Federated identities: each decision keeps the proof of how its approver signed in
 * (canonical JSON of an `IdentityProof`; null on rows written before this migration).
 */
export function federatedIdentity(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('decisions').addColumn('approver_identity', 'text').execute();
    },
  };
}
