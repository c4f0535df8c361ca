import { constantTimeEqual } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import type { RequestId } from '../core/ids.js';
import { requestIdOf } from '../request/build.js';
import type { RequestErrorCode, RequestRecord } from '../request/request.js';
import type { RequestReader } from './ports/requests.js';

/**
 * Loads a request and re-derives its id from the stored body, so that an edit to
 * the body in the database is caught before anyone decides on it.
 */
export async function loadRequest(
  repo: { readonly requests: RequestReader },
  id: string,
): Promise<RequestRecord> {
  const request = await repo.requests.get(id as RequestId);
  if (!request) {
    throw new CountersignError<RequestErrorCode>('REQUEST_UNKNOWN', 'no such request');
  }
  if (!constantTimeEqual(requestIdOf(request.body), request.id)) {
    throw new CountersignError<RequestErrorCode>(
      'REQUEST_TAMPERED',
      'the stored request body no longer matches its digest',
    );
  }
  return request;
}
