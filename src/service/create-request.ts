import { randomNonce } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import type { NhiId } from '../core/ids.js';
import type { Principal } from '../identity/principal.js';
import type { NhiErrorCode } from '../nhi/nhi.js';
import { buildRequestBody, requestIdOf, type RequestInput } from '../request/build.js';
import type { RequestRecord } from '../request/request.js';
import { record, type ServiceContext } from './context.js';

/** Creates a pending request, pinned to the policy rule that matched it. */
export async function createRequest(
  ctx: ServiceContext,
  requester: Principal,
  input: RequestInput,
): Promise<RequestRecord> {
  const now = ctx.clock.now();
  return ctx.store.transaction(async (tx) => {
    const nhi = await tx.getNhi(input.subject as NhiId);
    if (!nhi) {
      throw new CountersignError<NhiErrorCode>(
        'NHI_UNKNOWN',
        `subject ${input.subject.slice(0, 200)} is not a registered NHI`,
      );
    }
    const body = buildRequestBody(input, {
      requester: requester.id,
      nhi,
      policy: ctx.policy,
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
    await tx.insertRequest(request);
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
    return request;
  });
}
