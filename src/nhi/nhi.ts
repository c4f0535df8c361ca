import type { NhiId } from '../core/ids.js';
import type { NhiKind } from '../core/vocabulary.js';

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
export type NhiErrorCode = 'NHI_EXISTS' | 'NHI_CONFUSABLE' | 'NHI_UNKNOWN';
