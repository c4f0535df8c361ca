import { sql, type Kysely, type Migration } from 'kysely';
import { nhiKey } from '../../nhi/key.js';
import type { Dialect } from '../../service/ports/store.js';

/**
 * A unique comparison key per NHI (`nhiKey`: NFC, confusables, case folding), so that
 * `svc:BobOwned` cannot be registered beside `svc:bobowned` and a lookup by either
 * finds the one registered.
 *
 * The key is computed here in JavaScript, the same function the service uses. Rows
 * registered before 007 may already collide; they are evidence, bound to log events,
 * so the migration neither fails nor deletes them: in order of registration, the first
 * keeps the plain key and each later one gets `<key>#<id>`. No valid id contains `#`,
 * so a suffixed key is never the key of a lookup: such an NHI stays reachable by its
 * exact id only, and a case variant of it finds the first.
 *
 * The numbering leaves 006 to a migration developed alongside; Kysely only refuses a
 * migration that sorts before one a database has already run, and both ship together.
 */
export function nhiKeyColumn(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('nhis').addColumn('key', 'text').execute();
      const rows = await sql<{ id: string }>`
        select id from nhis order by created_at, id`.execute(db);
      const taken = new Set<string>();
      for (const { id } of rows.rows) {
        const plain = nhiKey(id);
        const key = taken.has(plain) ? `${plain}#${id}` : plain;
        taken.add(key);
        await sql`update nhis set "key" = ${key} where id = ${id}`.execute(db);
      }
      // SQLite cannot add NOT NULL to an existing column without rebuilding the table;
      // there every insert goes through insertNhi, which always sets the key.
      if (dialect === 'postgres') {
        await sql`alter table nhis alter column "key" set not null`.execute(db);
      }
      await db.schema.createIndex('nhis_key').on('nhis').column('key').unique().execute();
    },
  };
}
