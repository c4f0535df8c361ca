import type { Kysely, Selectable } from 'kysely';
import type { NhiId } from '../../core/ids.js';
import type { NhiKind } from '../../core/vocabulary.js';
import { nhiKey } from '../../nhi/key.js';
import type { Nhi } from '../../nhi/nhi.js';
import type { NhiWriter } from '../../service/ports/nhis.js';
import type { Database, NhisTable } from '../schema.js';
import { rowWhere } from './rows.js';

const toNhi = (r: Selectable<NhisTable>): Nhi => ({
  id: r.id as NhiId,
  kind: r.kind as NhiKind,
  owner: r.owner,
  description: r.description,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

export class KyselyNhis implements NhiWriter {
  constructor(private readonly db: Kysely<Database>) {}

  async get(id: NhiId): Promise<Nhi | null> {
    const r = await rowWhere(this.db, 'nhis', 'id', id);
    return r ? toNhi(r) : null;
  }

  async getByKey(key: string): Promise<Nhi | null> {
    const r = await rowWhere(this.db, 'nhis', 'key', key);
    return r ? toNhi(r) : null;
  }

  async setOwner(id: NhiId, from: string, to: string): Promise<boolean> {
    const r = await this.db
      .updateTable('nhis')
      .set({ owner: to })
      .where('id', '=', id)
      .where('owner', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async insert(n: Nhi): Promise<void> {
    await this.db
      .insertInto('nhis')
      .values({
        id: n.id,
        key: nhiKey(n.id),
        kind: n.kind,
        owner: n.owner,
        description: n.description,
        created_at: n.createdAt,
        created_by: n.createdBy,
      })
      .execute();
  }
}
