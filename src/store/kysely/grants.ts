import type { Kysely, Selectable } from 'kysely';
import type {
  GrantRow,
  GrantState,
  GrantWriter,
  RevocationBacklog,
} from '../../service/ports/grants.js';
import type { Database, GrantsTable } from '../schema.js';

/** How many overdue grants one sweep takes; the rest wait for the next sweep. */
const OVERDUE_LIMIT = 100;

/** The states that may still hold a credential somewhere, so revocation applies. */
const REVOCABLE: readonly GrantState[] = ['live', 'pending', 'abandoned'];

const toGrant = (r: Selectable<GrantsTable>): GrantRow => ({
  id: r.id,
  connector: r.connector,
  warrantId: r.warrant_id,
  requestId: r.request_id,
  subject: r.subject,
  handle: r.handle,
  fingerprint: r.fingerprint,
  state: r.state as GrantState,
  dueAt: r.due_at,
  createdAt: r.created_at,
  attempts: Number(r.attempts),
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  revokedAt: r.revoked_at,
});

/**
 * Brokered grants and their revocation schedule. Every state change is one conditional
 * UPDATE whose WHERE clause is the guard, so two nodes racing on a row cannot both pass
 * it: on PostgreSQL the second waits for the first's row lock and re-checks the clause
 * against the committed row; on SQLite writers are serialised outright.
 */
export class KyselyGrants implements GrantWriter {
  constructor(private readonly db: Kysely<Database>) {}

  async get(id: string): Promise<GrantRow | null> {
    const r = await this.db
      .selectFrom('grants')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r === undefined ? null : toGrant(r);
  }

  async byWarrant(warrantId: string): Promise<GrantRow[]> {
    const rows = await this.db
      .selectFrom('grants')
      .selectAll()
      .where('warrant_id', '=', warrantId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toGrant);
  }

  async overdue(now: string, pendingBefore: string): Promise<GrantRow[]> {
    const rows = await this.db
      .selectFrom('grants')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('state', 'in', ['live', 'abandoned']), eb('due_at', '<=', now)]),
          // A pending row this old is a grant whose answer was lost: the connector may
          // have minted it, so it is revoked rather than trusted to have failed. Past its
          // window it is revoked at once: the connector refuses to mint past the window.
          eb.and([
            eb('state', '=', 'pending'),
            eb.or([eb('created_at', '<=', pendingBefore), eb('due_at', '<=', now)]),
          ]),
        ]),
      )
      .orderBy('due_at')
      .orderBy('id')
      .limit(OVERDUE_LIMIT)
      .execute();
    return rows.map(toGrant);
  }

  async insert(g: GrantRow): Promise<void> {
    await this.db
      .insertInto('grants')
      .values({
        id: g.id,
        connector: g.connector,
        warrant_id: g.warrantId,
        request_id: g.requestId,
        subject: g.subject,
        handle: g.handle,
        fingerprint: g.fingerprint,
        state: g.state,
        due_at: g.dueAt,
        created_at: g.createdAt,
        attempts: g.attempts,
        next_attempt_at: g.nextAttemptAt,
        last_error: g.lastError,
        revoked_at: g.revokedAt,
      })
      .execute();
  }

  async markLive(id: string, fingerprint: string): Promise<boolean> {
    const r = await this.db
      .updateTable('grants')
      .set({ state: 'live', fingerprint })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    return r.numUpdatedRows === 1n;
  }

  async markFailed(id: string, error: string): Promise<void> {
    // Only a pending grant can fail: a live one holds a credential and must stay on the
    // schedule until revoked, whatever a late error says.
    await this.db
      .updateTable('grants')
      .set({ state: 'failed', last_error: error })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .execute();
  }

  async abandon(id: string, at: string): Promise<void> {
    await this.db
      .updateTable('grants')
      .set((eb) => ({
        state: 'abandoned',
        due_at: eb.case().when('due_at', '>', at).then(at).else(eb.ref('due_at')).end(),
        revoked_at: null,
      }))
      .where('id', '=', id)
      .where('state', 'in', ['pending', 'live', 'revoked'])
      .execute();
  }

  async dueNow(id: string, at: string): Promise<void> {
    await this.#bringForward('id', id, at);
  }

  async dueBy(warrantId: string, at: string): Promise<void> {
    await this.#bringForward('warrant_id', warrantId, at);
  }

  async revokedSince(dueSince: string): Promise<GrantRow[]> {
    const rows = await this.db
      .selectFrom('grants')
      .selectAll()
      .where('state', '=', 'revoked')
      .where('due_at', '>=', dueSince)
      .orderBy('due_at', 'desc')
      .limit(OVERDUE_LIMIT * 10)
      .execute();
    return rows.map(toGrant);
  }

  async backlog(now: string): Promise<RevocationBacklog> {
    const r = await this.db
      .selectFrom('grants')
      .select((eb) => [
        eb.fn.countAll<number | string>().as('overdue'),
        eb.fn
          .sum<number | string | null>(eb.case().when('attempts', '>', 0).then(1).else(0).end())
          .as('failing'),
        eb.fn.min<string | null>('due_at').as('oldest'),
      ])
      .where('state', 'in', REVOCABLE)
      .where('due_at', '<=', now)
      .executeTakeFirstOrThrow();
    return {
      overdue: Number(r.overdue),
      failing: Number(r.failing ?? 0),
      oldestDueAt: r.oldest ?? null,
    };
  }

  async dueByKey(kid: string, at: string): Promise<number> {
    const r = await this.db
      .updateTable('grants')
      .set({ due_at: at })
      .where('warrant_id', 'in', (eb) =>
        eb.selectFrom('warrants').select('warrants.id').where('warrants.kid', '=', kid),
      )
      .where('state', 'in', REVOCABLE)
      .where('due_at', '>', at)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async #bringForward(column: 'id' | 'warrant_id', value: string, at: string): Promise<void> {
    // `due_at > at` makes this a min(): revocation can be brought forward, never put off.
    await this.db
      .updateTable('grants')
      .set({ due_at: at })
      .where(column, '=', value)
      .where('state', 'in', REVOCABLE)
      .where('due_at', '>', at)
      .execute();
  }

  async claim(id: string, owner: string, now: string, leaseUntil: string): Promise<boolean> {
    const r = await this.db
      .updateTable('grants')
      .set({ lease_owner: owner, lease_until: leaseUntil })
      .where('id', '=', id)
      .where('state', 'in', REVOCABLE)
      .where('due_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', now)]))
      .executeTakeFirst();
    return r.numUpdatedRows === 1n;
  }

  async markRevoked(id: string, at: string): Promise<boolean> {
    // Conditional, so a late confirmation cannot move an earlier revoked_at.
    const r = await this.db
      .updateTable('grants')
      .set({ state: 'revoked', revoked_at: at, lease_owner: null, lease_until: null })
      .where('id', '=', id)
      .where('state', 'in', REVOCABLE)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async recordFailure(
    id: string,
    owner: string,
    error: string,
    nextAttemptAt: string,
  ): Promise<void> {
    await this.db
      .updateTable('grants')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        last_error: error,
        next_attempt_at: nextAttemptAt,
        // Its own lease only: one another node took after this one's lapsed stays.
        lease_owner: eb
          .case()
          .when('lease_owner', '=', owner)
          .then(null)
          .else(eb.ref('lease_owner'))
          .end(),
        lease_until: eb
          .case()
          .when('lease_owner', '=', owner)
          .then(null)
          .else(eb.ref('lease_until'))
          .end(),
      }))
      .where('id', '=', id)
      .where('state', 'in', REVOCABLE)
      .execute();
  }
}
