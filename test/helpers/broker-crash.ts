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
 * the warrant's row lock in the PostgreSQL store, as a slow disk or a lock queue would):
 * redemptions wait to commit while the connector keeps minting, and the kill loses every
 * answer that was waiting.
 */

export interface BurstPlan {
  readonly redemptions: number;
  /** Once this many allows were acknowledged, the store stalls. */
  readonly stallAfter: number;
  /** Roles the connector must mint while the store stalls before the kill. */
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

/** Fires `plan.redemptions` at once at `victim`, stalls its store, then kills it. */
export async function burstThenKill(
  fx: PgFixture,
  storeUrl: string,
  victim: TestServer,
  w: BrokeredWarrant,
  plan: BurstPlan,
): Promise<Burst> {
  const acked: string[] = [];
  const other: Record<string, number> = {};
  let cutOff = 0;
  let killing: Promise<number> | undefined;
  await Promise.all(
    Array.from({ length: plan.redemptions }, async () => {
      try {
        const r = await redeemBrokered(victim, w.token);
        if (r.status === 200) {
          acked.push((r.body as { receiptId: string }).receiptId);
          if (acked.length === plan.stallAfter) {
            killing = stallThenKill(fx, storeUrl, victim, w.warrantId, plan.lostAnswers);
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

/** Holds the warrant's row lock, waits for `lost` more roles, kills; returns roles at stall. */
async function stallThenKill(
  fx: PgFixture,
  storeUrl: string,
  victim: TestServer,
  warrantId: string,
  lost: number,
): Promise<number> {
  const lock = new pg.Client({ connectionString: storeUrl });
  await lock.connect();
  try {
    await lock.query('BEGIN');
    await lock.query('SELECT 1 FROM warrants WHERE id = $1 FOR UPDATE', [warrantId]);
    const before = (await mintedRoles(fx)).size;
    await until(
      async () => (await mintedRoles(fx)).size >= before + lost,
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
