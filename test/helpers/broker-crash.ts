import pg from 'pg';
import type { PgFixture } from '../connectors/pg-fixture.js';
import { exited } from '../faults/support.js';
import { mintedRoles, redeemBrokered, until, type BrokeredWarrant } from './broker-faults.js';
import type { TestServer } from './server.js';

/**
 * A burst of brokered redemptions ended by SIGKILL, with the answers in between lost.
 *
 * The window between the connector's answer and the redemption's commit is milliseconds
 * wide, so a kill rarely lands in it by chance. Here the store stalls first (the test holds
 * the row locks of the burst's warrants in the PostgreSQL store, as a slow disk or a lock
 * queue would): redemptions wait to spend their use while the connector keeps minting, and
 * the kill loses every answer that was waiting.
 *
 * One node's redemptions of one warrant take turns from mint to commit, so while the store
 * stalls each warrant holds at most one minted role whose answer is waiting: the burst is
 * spread round-robin over several warrants, and no more answers can be lost than there are
 * warrants.
 */

export interface BurstPlan {
  /** Redemptions in all, fired at once, the i-th at warrant i modulo their number. */
  readonly redemptions: number;
  /** Once this many allows were acknowledged, the store stalls. */
  readonly stallAfter: number;
  /** Minted roles whose answers must be waiting on the stalled store before the kill. */
  readonly lostAnswers: number;
}

export interface Burst {
  /** Receipt ids of the allows the clients saw. */
  readonly acked: readonly string[];
  /** Other answers, by status and detail. */
  readonly other: Readonly<Record<string, number>>;
  /** Requests the kill cut off: never answered. */
  readonly cutOff: number;
  /** Roles in the database when the store stalled, and when the server died. */
  readonly rolesAtStall: number;
  readonly rolesAtKill: ReadonlySet<string>;
}

/** Fires `plan.redemptions` at once at `victim` over `warrants`, stalls its store, kills it. */
export async function burstThenKill(
  fx: PgFixture,
  storeUrl: string,
  victim: TestServer,
  warrants: readonly BrokeredWarrant[],
  plan: BurstPlan,
): Promise<Burst> {
  if (plan.lostAnswers > warrants.length) {
    // Each warrant can hold only one waiting answer: the stall would wait in vain.
    throw new Error(`${plan.lostAnswers} lost answers need as many warrants`);
  }
  const acked: string[] = [];
  const other: Record<string, number> = {};
  let cutOff = 0;
  let killing: Promise<number> | undefined;
  const ids = warrants.map((w) => w.warrantId);
  await Promise.all(
    Array.from({ length: plan.redemptions }, async (_, i) => {
      const w = warrants[i % warrants.length] as BrokeredWarrant;
      try {
        const r = await redeemBrokered(victim, w.token);
        if (r.status === 200) {
          acked.push((r.body as { receiptId: string }).receiptId);
          if (acked.length === plan.stallAfter) {
            killing = stallThenKill(fx, storeUrl, victim, ids, plan.lostAnswers);
          }
        } else {
          const key = `${r.status} ${(r.body as { detail?: string }).detail ?? r.text}`;
          other[key] = (other[key] ?? 0) + 1;
        }
      } catch {
        cutOff += 1; // reset by the kill: never acknowledged
      }
    }),
  );
  if (killing === undefined) {
    throw new Error(`fewer than ${plan.stallAfter} allows before the burst ended`);
  }
  const rolesAtStall = await killing;
  return { acked, other, cutOff, rolesAtStall, rolesAtKill: await mintedRoles(fx) };
}

/**
 * Holds the row locks of `warrantIds`, waits until `lost` minted roles belong to grants
 * still pending, kills; returns the roles at the stall.
 *
 * Once the locks are held, every redemption that committed has committed, and every other
 * waits to spend its use: a pending grant whose role exists is an answer the kill loses.
 * Counting those, rather than roles minted after the stall, also counts a warrant whose
 * waiting redemption had minted just before it (its next turn cannot start until then).
 */
async function stallThenKill(
  fx: PgFixture,
  storeUrl: string,
  victim: TestServer,
  warrantIds: readonly string[],
  lost: number,
): Promise<number> {
  const lock = new pg.Client({ connectionString: storeUrl });
  await lock.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('SELECT 1 FROM warrants WHERE id = any($1) FOR UPDATE', [warrantIds]);
    const before = (await mintedRoles(fx)).size;
    const waiting = async () => {
      const pending = await lock.query<{ handle: string }>(
        "SELECT handle FROM grants WHERE warrant_id = any($1) AND state = 'pending'",
        [warrantIds],
      );
      const roles = await mintedRoles(fx);
      return pending.rows.filter((g) => roles.has(g.handle)).length;
    };
    await until(
      async () => (await waiting()) >= lost,
      'the connector to mint while the store stalls',
      15_000,
    );
    victim.proc.kill('SIGKILL');
    await exited(victim);
    return before;
  } finally {
    await lock.query('ROLLBACK').catch(() => undefined);
    await lock.end();
  }
}
