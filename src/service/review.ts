import { ineligibility, type Decision } from '../approval/decision.js';
import { epochSeconds } from '../core/clock.js';
import type { RequestId } from '../core/ids.js';
import type { Principal } from '../identity/principal.js';
import type { RequestBody } from '../request/request.js';
import { riskFlags, type RiskFlag } from '../request/risk.js';
import type { ServiceContext } from './context.js';
import { getRequest, type RequestView } from './queries.js';
import { approvedHistory, resourcesBefore, ruleLimits } from './request-risk.js';

/** A decision with how its approver signed in, read from its identity proof. */
export interface ReviewedDecision extends Decision {
  readonly via: 'api_token' | 'oidc' | null;
  /** When an OIDC approver signed in (`auth_time`), or null. */
  readonly authTime: string | null;
}

/** Everything an approver needs to decide, on one page. */
export interface RequestReview extends Omit<RequestView, 'decisions' | 'warrantId'> {
  readonly decisions: readonly ReviewedDecision[];
  /** Known principals who may decide (configured tokens; people of an issuer are not listed). */
  readonly eligibleApprovers: ReadonlyArray<{ id: string; groups: readonly string[] }>;
  /** The groups any approver must belong to: people signing in at an issuer qualify by these. */
  readonly approverGroups: readonly string[];
  readonly riskFlags: readonly RiskFlag[];
  /** The newest request approved before this one for the same subject and action. */
  readonly previous: { readonly id: RequestId; readonly body: RequestBody } | null;
  readonly you: {
    readonly mayDecide: boolean;
    readonly why: string | null;
    /** True when a decision would be refused `AUTH_TOO_OLD` until the person signs in again. */
    readonly needsFreshSignIn: boolean;
  };
}

function reviewed(d: Decision): ReviewedDecision {
  const proof = d.approverIdentity;
  const authTime = proof?.via === 'oidc' ? proof.auth_time : null;
  return {
    ...d,
    via: proof?.via ?? null,
    authTime: authTime === null ? null : new Date(authTime * 1000).toISOString(),
  };
}

/** Why the caller may not decide now, or null when they may. */
function whyNot(view: RequestView, caller: Principal): string | null {
  if (!caller.roles.includes('approver')) return 'you do not hold the approver role';
  if (view.state !== 'pending') return `the request is ${view.state}`;
  const refusal = ineligibility(view.body, caller);
  if (refusal) return refusal.message;
  if (view.decisions.some((d) => d.approver === caller.id)) return 'you have already decided';
  return null;
}

/** The review page of one request, as `caller` sees it. Reads only. */
export async function reviewRequest(
  ctx: ServiceContext,
  caller: Principal,
  id: string,
): Promise<RequestReview> {
  const known = ctx.directory ?? [];
  const view = await getRequest(ctx, id);
  const body = view.body;
  const history = (await approvedHistory(ctx.store.read, body.subject)).filter(
    (h) => h.id !== view.id,
  );
  const previous =
    history.find((h) => h.body.action === body.action && h.body.createdAt < body.createdAt) ?? null;
  const why = whyNot(view, caller);
  const maxAge = ctx.identity.approvalAuthMaxAgeSeconds;
  const stale =
    caller.via === 'oidc' &&
    (caller.identity.authTime === null ||
      epochSeconds(ctx.clock.now()) - caller.identity.authTime > maxAge);
  const { decisions, warrantId: _, ...rest } = view;
  return {
    ...rest,
    decisions: decisions.map(reviewed),
    eligibleApprovers: known
      .filter((p) => p.roles.includes('approver') && ineligibility(body, p) === null)
      .map((p) => ({ id: p.id, groups: p.groups })),
    approverGroups: body.policy.approverGroups,
    riskFlags: riskFlags(body, ruleLimits(ctx, body), resourcesBefore(history, body)),
    previous: previous && { id: previous.id, body: previous.body },
    you: { mayDecide: why === null, why, needsFreshSignIn: why === null && stale },
  };
}
