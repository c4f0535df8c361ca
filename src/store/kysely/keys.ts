import type { Kysely } from 'kysely';
import type { KeyState, SigningKeyRecord } from '../../keys/keyring.js';
import type { KeyWriter } from '../../service/ports/keys.js';
import type { Database } from '../schema.js';
import type { DialectSql } from './dialect.js';

/** The signing keys, public halves in clear and private halves sealed under the KEK. */
export class KyselyKeys implements KeyWriter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sql: DialectSql,
  ) {}

  async list(): Promise<SigningKeyRecord[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('created_at')
      .execute();
    return rows.map((k) => ({
      kid: k.kid,
      publicJwk: k.public_jwk,
      sealedPrivate: k.sealed_private,
      state: k.state as KeyState,
      createdAt: k.created_at,
      revokedAt: k.revoked_at,
    }));
  }

  async isRevoked(kid: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('signing_keys')
      .select('state')
      .where('kid', '=', kid)
      .executeTakeFirst();
    return row?.state === 'revoked';
  }

  async insert(k: SigningKeyRecord): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({
        kid: k.kid,
        public_jwk: k.publicJwk,
        sealed_private: k.sealedPrivate,
        state: k.state,
        created_at: k.createdAt,
        revoked_at: k.revokedAt,
      })
      .execute();
  }

  async setState(kid: string, state: KeyState, at: string): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ state, ...(state === 'revoked' ? { revoked_at: at } : {}) })
      .where('kid', '=', kid)
      .execute();
  }

  lock(): Promise<void> {
    return this.sql.lockKeyRing(this.db);
  }
}
