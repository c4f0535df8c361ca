import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/service/ports/store.js';
import { migrations } from '../../src/store/migrations.js';
import { indexesOn, legacyDialects, withLegacy, type LegacyDatabase } from './legacy.js';

const tableExists = async (l: LegacyDatabase, dialect: Dialect, name: string): Promise<boolean> => {
  const { rows } =
    dialect === 'postgres'
      ? await sql`select 1 from pg_tables where tablename = ${name}`.execute(l.db)
      : await sql`select 1 from sqlite_master where type = 'table' and name = ${name}`.execute(
          l.db,
        );
  return rows.length > 0;
};

const applied = async (l: LegacyDatabase): Promise<string[]> =>
  (
    await sql<{ name: string }>`select name from kysely_migration order by name`.execute(l.db)
  ).rows.map((r) => r.name);

for (const { dialect, unavailable } of legacyDialects()) {
  describe.skipIf(unavailable !== null)(`upgrading a ${dialect} database`, () => {
    describe('when a migration fails after its first statement', () => {
      it('leaves the database exactly at the version it had, and the next start upgrades it whole', async () => {
        await withLegacy(dialect, '015_expiries_due', async (l) => {
          // 016 creates a table, then an index: an index of that name already there makes
          // its second statement fail, as a start killed between the two would stop it.
          await l.db.schema.createIndex('warrants_not_after').on('warrants').column('id').execute();
          const before = await applied(l);

          await expect(l.openStore()).rejects.toThrow(/warrants_not_after/);
          expect(await tableExists(l, dialect, 'reconcile_watermarks')).toBe(false);
          expect(await applied(l)).toEqual(before);
          expect(before.at(-1)).toBe('015_expiries_due');

          await l.db.schema.dropIndex('warrants_not_after').execute();
          const store = await l.openStore();
          try {
            expect(await tableExists(l, dialect, 'reconcile_watermarks')).toBe(true);
            expect([...(await indexesOn(l, dialect, 'warrants')).keys()]).toContain(
              'warrants_not_after',
            );
            const every = Object.keys(await migrations(dialect).getMigrations()).sort();
            expect(await applied(l)).toEqual(every);
          } finally {
            await store.close();
          }
        });
      });
    });

    // PostgreSQL's upgrades were always atomic: only SQLite databases can be in this state.
    describe.runIf(dialect === 'sqlite')(
      'when an older version was cut off inside migration 008',
      () => {
        it('adds what 008 had left undone, and the start upgrades it whole', async () => {
          await withLegacy(dialect, '007_nhi_key', async (l) => {
            // What a start killed after 008's first statement left, before upgrades were
            // atomic: the column there, its index not, and 008 not recorded.
            await l.db.schema.alterTable('redemptions').addColumn('event_id', 'bigint').execute();
            const store = await l.openStore();
            try {
              const every = Object.keys(await migrations(dialect).getMigrations()).sort();
              expect(await applied(l)).toEqual(every);
              expect([...(await indexesOn(l, dialect, 'redemptions')).keys()]).toContain(
                'redemptions_warrant_outcome',
              );
            } finally {
              await store.close();
            }
          });
        });
      },
    );
  });
}
