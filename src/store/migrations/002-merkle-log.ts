import { type Kysely, type Migration } from 'kysely';
import { columnTypes } from './types.js';
import { type Dialect } from '../../service/ports/store.js';

export function merkleLog(dialect: Dialect): Migration {
  const { bigint } = columnTypes(dialect);
  return {
    async up(db: Kysely<unknown>) {
      // The hash of every complete perfect subtree: node (level, idx) covers leaves
      // [idx * 2^level, (idx + 1) * 2^level). Proofs read O(log n) of these.
      await db.schema
        .createTable('log_nodes')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', bigint, (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('log_nodes_pk', ['level', 'idx'])
        .execute();
      await db.schema
        .createTable('checkpoints')
        .addColumn('size', bigint, (c) => c.primaryKey())
        .addColumn('root', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('events_pending')
        .on('events')
        .columns(['leaf_index', 'id'])
        .execute();
    },
  };
}
