import { CountersignError } from '../core/errors.js';
import type { NhiId } from '../core/ids.js';

export const NHI_KINDS = [
  'service_account',
  'api_key',
  'secret',
  'workload',
  'ai_agent',
  'pipeline',
] as const;
export type NhiKind = (typeof NHI_KINDS)[number];

/** A registered non-human identity: the subject that approvals are about. */
export interface Nhi {
  readonly id: NhiId;
  readonly kind: NhiKind;
  readonly owner: string;
  readonly description: string | null;
  readonly createdAt: string;
  readonly createdBy: string;
}

/**
 * - `NHI_EXISTS`: the id is registered.
 * - `NHI_CONFUSABLE`: another registered id has the same comparison key (`nhiKey` in key.ts):
 *   it differs only by case or a confusable character.
 */
export type NhiErrorCode = 'NHI_EXISTS' | 'NHI_CONFUSABLE' | 'NHI_UNKNOWN' | 'INVALID_NHI_ID';

/** `kind:name`, e.g. `svc:payments-api`, `agent:ops-bot`, `pipeline:deploy-eu`. */
const NHI_ID = /^[a-z][a-z0-9-]{0,31}:[A-Za-z0-9._@/-]{1,200}$/;

export function assertNhiId(id: string): asserts id is NhiId {
  if (!NHI_ID.test(id)) {
    throw new CountersignError<NhiErrorCode>(
      'INVALID_NHI_ID',
      'NHI id must look like prefix:name, e.g. svc:payments-api',
    );
  }
}
