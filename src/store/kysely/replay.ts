import type { Kysely } from 'kysely';
import type { TokenReplayWriter } from '../../service/ports/replay.js';
import type { Database } from '../schema.js';

/** Spent federated tokens (`token_replays`). */
export class KyselyTokenReplays implements TokenReplayWriter {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * One statement, so it is atomic on both dialects: of concurrent calls for one key,
   * PostgreSQL makes the later ones wait on the first's row and then re-check the
   * condition, and SQLite runs one writer at a time. A record past its `expires_at` is
   * taken over, so behaviour never depends on when the pruning job last ran.
   */
  async spend(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('token_replays')
      .values({ issuer, jti, expires_at: expiresAt })
      .onConflict((oc) =>
        oc
          .columns(['issuer', 'jti'])
          .doUpdateSet({ expires_at: (eb) => eb.ref('excluded.expires_at') })
          .where('token_replays.expires_at', '<', now),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async forget(before: number): Promise<number> {
    const r = await this.db
      .deleteFrom('token_replays')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
