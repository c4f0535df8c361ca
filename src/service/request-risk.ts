import type { RequestId } from '../core/ids.js';
import type { RequestBody, RequestState } from '../request/request.js';
import { riskFlags, type RiskFlag, type RuleLimits } from '../request/risk.js';
import type { ServiceContext } from './context.js';
import type { ReadPorts } from './ports/store.js';

/** States a request reaches only through approval: its warrant was issued. */
export const APPROVED_STATES: readonly RequestState[] = ['approved', 'revoked', 'exhausted'];

/** How many approved requests of a subject are read to know its history. */
const HISTORY = 500;

/** The maxima of the rule that pinned `body`, if the loaded policy is the one it was pinned to. */
export function ruleLimits(ctx: ServiceContext, body: RequestBody): RuleLimits | null {
  if (ctx.policy.version !== body.policy.version) return null;
  return ctx.policy.rules.find((r) => r.name === body.policy.rule) ?? null;
}

export interface ApprovedHistory {
  readonly id: RequestId;
  readonly body: RequestBody;
}

/** The newest approved requests of `subject`, newest first (at most {@link HISTORY}). */
export async function approvedHistory(
  read: Pick<ReadPorts, 'requests'>,
  subject: string,
): Promise<ApprovedHistory[]> {
  const rows = await read.requests.list({
    subject,
    states: APPROVED_STATES,
    order: 'newest',
    limit: HISTORY,
  });
  return rows.map((r) => ({ id: r.id, body: r.body }));
}

/** Every scope resource approved for the subject before `body` was created. */
export function resourcesBefore(history: readonly ApprovedHistory[], body: RequestBody) {
  return new Set(
    history
      .filter((h) => h.body.createdAt < body.createdAt)
      .flatMap((h) => h.body.scope.map((e) => e.resource)),
  );
}

/**
 * The risk flags of many requests at once, reading each subject's history once.
 * Returns flags in the order of `bodies`.
 */
export async function flagsOf(
  ctx: ServiceContext,
  bodies: readonly RequestBody[],
): Promise<RiskFlag[][]> {
  const subjects = [...new Set(bodies.map((b) => b.subject))];
  const histories = new Map(
    await Promise.all(
      subjects.map(async (s) => [s, await approvedHistory(ctx.store.read, s)] as const),
    ),
  );
  return bodies.map((b) =>
    riskFlags(b, ruleLimits(ctx, b), resourcesBefore(histories.get(b.subject) ?? [], b)),
  );
}
