import { ineligibility } from '../approval/decision.js';
import { randomNonce } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import { executorBindingProblem } from '../identity/oidc/binding.js';
import type { Principal } from '../identity/principal.js';
import type { NhiErrorCode } from '../nhi/nhi.js';
import { normaliseScope } from '../core/scope.js';
import { selectRule } from '../policy/match.js';
import { buildRequestBody, requestIdOf, type RequestInput } from '../request/build.js';
import type { RequestBody, RequestErrorCode, RequestRecord } from '../request/request.js';
import type { Nhi } from '../nhi/nhi.js';
import type { NhiReader } from './ports/nhis.js';
import { record, type ServiceContext } from './context.js';
import { findNhi } from './nhis.js';
import { enqueueWebhook } from './webhooks.js';

/** What a request would be: its body, pinned to the rule it matches. Reads only. */
export async function planRequest(
  ctx: ServiceContext,
  read: { readonly nhis: NhiReader },
  requester: Principal,
  input: RequestInput,
  now: Date,
): Promise<{ readonly body: RequestBody; readonly nhi: Nhi }> {
  if (input.executor.kind === 'claims') {
    const problem = executorBindingProblem(ctx.identity.workloadIssuers, input.executor.matcher);
    if (problem !== null) {
      throw new CountersignError<RequestErrorCode>('EXECUTOR_BINDING_INVALID', problem);
    }
  }
  if (input.connector !== undefined && !ctx.connectors?.has(input.connector)) {
    throw new CountersignError<RequestErrorCode>(
      'CONNECTOR_UNKNOWN',
      `no connector ${input.connector} is configured on this server`,
    );
  }
  // The body names the registered id, whatever case or look-alike the input used, so
  // the owner and the separation of duties are those of the one registered NHI.
  const nhi = await findNhi(read, input.subject);
  if (!nhi) {
    throw new CountersignError<NhiErrorCode>(
      'NHI_UNKNOWN',
      `subject ${input.subject.slice(0, 200)} is not a registered NHI`,
    );
  }
  // A malformed scope is refused as such before it can fail to match any rule.
  const rule = selectRule(ctx.policy, {
    environment: input.environment,
    nhiKind: nhi.kind,
    action: input.action,
    scope: normaliseScope(input.scope),
  });
  const body = buildRequestBody(input, {
    requester: requester.id,
    nhi,
    rule,
    policyVersion: ctx.policy.version,
    now,
    nonce: randomNonce(),
  });
  const connector =
    input.connector === undefined ? undefined : ctx.connectors?.get(input.connector);
  const problem = connector?.scopeProblem?.(body.scope) ?? null;
  if (problem !== null) throw new CountersignError<RequestErrorCode>('CONNECTOR_UNKNOWN', problem);
  return { body, nhi };
}

/** Creates a pending request, pinned to the policy rule that matched it. */
export async function createRequest(
  ctx: ServiceContext,
  requester: Principal,
  input: RequestInput,
): Promise<RequestRecord> {
  const now = ctx.clock.now();
  return ctx.store.transaction(async (tx) => {
    const { body, nhi } = await planRequest(ctx, tx, requester, input, now);
    const request: RequestRecord = {
      id: requestIdOf(body),
      body,
      state: 'pending',
      warrantId: null,
      updatedAt: now.toISOString(),
    };
    await tx.requests.insert(request);
    await record(
      tx,
      'request.created',
      now,
      requester.id,
      { request: request.id, nhi: nhi.id },
      {
        body,
      },
    );
    await enqueueWebhook(tx, ctx.webhooks ?? [], 'request.pending', now, {
      requestId: request.id,
      requester: body.requester,
      subject: body.subject,
      action: body.action,
      environment: body.environment,
      requiredApprovals: body.policy.requiredApprovals,
      approverGroups: body.policy.approverGroups,
    });
    return request;
  });
}

/** What creating a request would do: the rule, who must approve, the window. */
export interface RequestPreview {
  readonly rule: string;
  readonly policyDigest: `sha256:${string}`;
  readonly environment: string;
  readonly requiredApprovals: number;
  readonly approverGroups: readonly string[];
  /** Known principals (configured tokens) who could approve it. */
  readonly eligibleApprovers: ReadonlyArray<{ id: string; groups: readonly string[] }>;
  /** The separation-of-duties rules that apply, in words. */
  readonly separationOfDuties: readonly string[];
  readonly window: {
    readonly notBefore?: string;
    readonly notAfter?: string;
    readonly durationMs?: number;
    /** When the request expires if the approvals have not come. */
    readonly pendingExpiresAt: string;
  };
  readonly maxUses: number;
}

/**
 * Everything `createRequest` would decide about `input`, with nothing written: no row,
 * no event, no webhook. Bad input is refused with the same errors as creation.
 */
export async function previewRequest(
  ctx: ServiceContext,
  requester: Principal,
  input: RequestInput,
): Promise<RequestPreview> {
  const { body } = await planRequest(ctx, ctx.store.read, requester, input, ctx.clock.now());
  const p = body.policy;
  const sod = [`the requester (${body.requester}) cannot approve`];
  if (p.excludeOwner)
    sod.push(`the owner of ${body.subject} (${body.subjectOwner}) cannot approve`);
  if (!p.requesterMayExecute) sod.push('the requester cannot be the executor');
  sod.push('each approver counts once');
  return {
    rule: p.rule,
    policyDigest: p.version,
    environment: body.environment,
    requiredApprovals: p.requiredApprovals,
    approverGroups: p.approverGroups,
    eligibleApprovers: (ctx.directory ?? [])
      .filter((k) => k.roles.includes('approver') && ineligibility(body, k) === null)
      .map((k) => ({ id: k.id, groups: k.groups })),
    separationOfDuties: sod,
    window: {
      ...(body.notBefore === undefined ? {} : { notBefore: body.notBefore }),
      ...(body.notAfter === undefined ? {} : { notAfter: body.notAfter }),
      ...(body.durationMs === undefined ? {} : { durationMs: body.durationMs }),
      pendingExpiresAt: body.pendingExpiresAt,
    },
    maxUses: body.maxUses,
  };
}
