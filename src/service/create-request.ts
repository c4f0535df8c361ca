import { randomNonce } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import { executorBindingProblem } from '../identity/oidc/binding.js';
import type { Principal } from '../identity/principal.js';
import type { NhiErrorCode } from '../nhi/nhi.js';
import { normaliseScope } from '../core/scope.js';
import { selectRule } from '../policy/match.js';
import { buildRequestBody, requestIdOf, type RequestInput } from '../request/build.js';
import type { RequestErrorCode, RequestRecord } from '../request/request.js';
import { record, type ServiceContext } from './context.js';
import { findNhi } from './nhis.js';
import { enqueueWebhook } from './webhooks.js';

/** Creates a pending request, pinned to the policy rule that matched it. */
export async function createRequest(
  ctx: ServiceContext,
  requester: Principal,
  input: RequestInput,
): Promise<RequestRecord> {
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
  const now = ctx.clock.now();
  return ctx.store.transaction(async (tx) => {
    // The body names the registered id, whatever case or look-alike the input used, so
    // the owner and the separation of duties are those of the one registered NHI.
    const nhi = await findNhi(tx, input.subject);
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
