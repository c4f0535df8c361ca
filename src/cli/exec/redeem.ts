import { randomUUID } from 'node:crypto';
import { isRedemptionDenial, type CountersignClient } from '../../client/index.js';
import { UNTARGETED } from '../../core/vocabulary.js';

/** The action exec redeems, before a target is added. */
export interface BaseAction {
  readonly resource: string;
  readonly permission: string;
  readonly environment: string;
}

/** The action of one redemption: the base action, at most one target. */
export interface ExecAction extends BaseAction {
  readonly target?: string;
}

/** One allowed redemption, and the target its fulfilment names. */
export interface Grant {
  readonly action: ExecAction;
  /** The action's target, or `default` for an untargeted warrant. */
  readonly fulfilTarget: string;
  readonly receipt: string;
  readonly receiptId: string;
  readonly use: number;
  readonly maxUses: number;
  /** A brokered grant's credential, minted for this run and shown nowhere else. */
  readonly credential?: Readonly<Record<string, string>>;
}

/**
 * How redeeming every target went. `spent` holds the uses already redeemed when a later
 * one was refused or failed: the command does not run, and they are reported as failures.
 */
export type Redemption =
  | { readonly kind: 'allowed'; readonly grants: readonly Grant[] }
  | {
      readonly kind: 'denied';
      readonly code: string;
      readonly message: string;
      readonly spent: readonly Grant[];
    }
  | { readonly kind: 'failed'; readonly error: unknown; readonly spent: readonly Grant[] };

/** The actions exec redeems: one per target, or the one untargeted action. */
export const actionsFor = (base: BaseAction, targets: readonly string[]): ExecAction[] =>
  targets.length === 0 ? [base] : targets.map((target) => ({ ...base, target }));

/**
 * Redeems one use per action. A redemption names at most one target and a fulfilment the
 * one target its receipt was redeemed for, so several targets take one use each. With
 * several, every action is dry-run first (nothing spent) and the uses left are compared
 * with the number of targets, so a refusal known in advance spends nothing. Each real
 * redemption carries an idempotency key unique to this run and action, which lets the
 * client retry it after a lost answer without spending a second use.
 */
export async function redeemAll(
  client: CountersignClient,
  warrant: string,
  actions: readonly ExecAction[],
): Promise<Redemption> {
  if (actions.length > 1) {
    const refused = await dryRunAll(client, warrant, actions);
    if (refused !== null) return refused;
  }
  const run = randomUUID();
  const grants: Grant[] = [];
  for (const [i, action] of actions.entries()) {
    try {
      const r = await client.redeem({ warrant, action, idempotencyKey: `exec:${run}:${i}` });
      grants.push({
        action,
        fulfilTarget: action.target ?? UNTARGETED,
        receipt: r.receipt,
        receiptId: r.receiptId,
        use: r.use,
        maxUses: r.maxUses,
        ...(r.credential === undefined ? {} : { credential: r.credential }),
      });
    } catch (e) {
      if (isRedemptionDenial(e))
        return { kind: 'denied', code: e.code, message: e.message, spent: grants };
      return { kind: 'failed', error: e, spent: grants };
    }
  }
  return { kind: 'allowed', grants };
}

async function dryRunAll(
  client: CountersignClient,
  warrant: string,
  actions: readonly ExecAction[],
): Promise<Redemption | null> {
  let left = Infinity;
  for (const action of actions) {
    try {
      const r = await client.redeem({ warrant, action, dryRun: true });
      // `remaining` counts the uses left after this one would be spent.
      left = Math.min(left, r.remaining + 1);
    } catch (e) {
      if (isRedemptionDenial(e))
        return { kind: 'denied', code: e.code, message: e.message, spent: [] };
      return { kind: 'failed', error: e, spent: [] };
    }
  }
  if (left < actions.length) {
    return {
      kind: 'denied',
      code: 'WARRANT_EXHAUSTED',
      message: `WARRANT_EXHAUSTED: ${left} use(s) left, and each of the ${actions.length} targets needs one`,
      spent: [],
    };
  }
  return null;
}
