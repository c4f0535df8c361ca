import { ineligibility } from '../approval/decision.js';
import { CountersignError, type CoreErrorCode } from '../core/errors.js';
import type { RequestAction } from '../core/vocabulary.js';
import type { Principal } from '../identity/principal.js';
import { effectiveState } from '../request/lifecycle.js';
import type { RequestRecord, RequestState } from '../request/request.js';
import type { RiskFlagCode } from '../request/risk.js';
import type { ServiceContext } from './context.js';
import type { RequestCursor, RequestListFilter } from './ports/requests.js';
import type { RequestSummary } from './queries.js';
import { flagsOf } from './request-risk.js';

export interface RequestPageFilter {
  readonly state?: RequestState | undefined;
  readonly subject?: string | undefined;
  readonly action?: RequestAction | undefined;
  /** Pending requests the caller may still decide: eligible, undecided, not their own. */
  readonly awaitingMe?: boolean;
  readonly requestedByMe?: boolean;
  readonly order?: 'oldest' | 'newest' | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

/** A request in a list, with what the inbox shows beside it. */
export interface RequestListItem extends RequestSummary {
  readonly ageMs: number;
  readonly approvals: number;
  readonly requiredApprovals: number;
  readonly riskFlags: readonly RiskFlagCode[];
}

export interface RequestPage {
  readonly requests: readonly RequestListItem[];
  /** Pass as `cursor` for the next page; null when this page is the last. */
  readonly nextCursor: string | null;
}

/** Rows read per store query while filtering on what only the body holds. */
const BATCH = 200;

export function encodeCursor(c: RequestCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');
}

// What `encodeCursor` writes: an instant from `toISOString()` and one of our ids. Anything
// else (a NUL hidden by base64url reached PostgreSQL as a 500) was never ours.
const CURSOR_INSTANT = /^[+-]?\d{4,6}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CURSOR_ID = /^[A-Za-z0-9_:.-]{1,128}$/;

export function decodeCursor(text: string): RequestCursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      typeof v[1] === 'string' &&
      CURSOR_INSTANT.test(v[0]) &&
      CURSOR_ID.test(v[1])
    ) {
      return { createdAt: v[0], id: v[1] };
    }
  } catch {
    // refused below
  }
  throw new CountersignError<CoreErrorCode>('VALIDATION_FAILED', 'the cursor is not one we gave');
}

/**
 * One page of requests, newest (or oldest) first, after `cursor`. What the database
 * can filter it does (state and deadline, subject, requester, the caller's own
 * decisions), in keyset order; what only the body says (the action, whether the
 * caller is in an approver group and not the owner) is filtered here, reading batch
 * after batch until the page is full, so a page is never short while more match.
 */
export async function listRequestPage(
  ctx: ServiceContext,
  caller: Principal,
  f: RequestPageFilter,
): Promise<RequestPage> {
  const now = ctx.clock.now();
  const nowIso = now.toISOString();
  const awaiting = f.awaitingMe === true;
  if (awaiting && !caller.roles.includes('approver')) return { requests: [], nextCursor: null };
  const state = awaiting ? 'pending' : f.state;
  const base: Omit<RequestListFilter, 'limit'> = {
    ...(state === 'pending' ? { pendingAt: nowIso } : {}),
    ...(state === 'expired' ? { expiredAt: nowIso } : {}),
    ...(state !== undefined && state !== 'pending' && state !== 'expired'
      ? { states: [state] }
      : {}),
    ...(f.subject === undefined ? {} : { subject: f.subject }),
    ...(f.requestedByMe ? { requester: caller.id } : {}),
    ...(awaiting ? { notRequester: caller.id, notDecidedBy: caller.id } : {}),
    order: f.order ?? 'newest',
  };
  const keep = (r: RequestRecord) =>
    (f.action === undefined || r.body.action === f.action) &&
    (!awaiting || ineligibility(r.body, caller) === null);
  const picked: RequestRecord[] = [];
  let after = f.cursor === undefined ? undefined : decodeCursor(f.cursor);
  let more = false;
  for (;;) {
    const rows = await ctx.store.read.requests.list({
      ...base,
      ...(after ? { after } : {}),
      limit: BATCH,
    });
    for (const r of rows) {
      if (!keep(r)) continue;
      if (picked.length === f.limit) {
        more = true;
        break;
      }
      picked.push(r);
    }
    const last = rows.at(-1);
    if (more || rows.length < BATCH || !last) break;
    after = { createdAt: last.body.createdAt, id: last.id };
  }
  const counts = await ctx.store.read.requests.approvalCounts(picked.map((r) => r.id));
  const flags = await flagsOf(
    ctx,
    picked.map((r) => r.body),
  );
  const requests = picked.map((r, i) => ({
    id: r.id,
    state: effectiveState(r.state, r.body.pendingExpiresAt, now),
    requester: r.body.requester,
    subject: r.body.subject,
    action: r.body.action,
    environment: r.body.environment,
    createdAt: r.body.createdAt,
    ageMs: now.getTime() - Date.parse(r.body.createdAt),
    approvals: counts.get(r.id) ?? 0,
    requiredApprovals: r.body.policy.requiredApprovals,
    riskFlags: (flags[i] ?? []).map((x) => x.code),
  }));
  const lastPicked = picked.at(-1);
  return {
    requests,
    nextCursor:
      more && lastPicked
        ? encodeCursor({ createdAt: lastPicked.body.createdAt, id: lastPicked.id })
        : null,
  };
}
