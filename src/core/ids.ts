import { randomId, timeOrderedId } from './crypto.js';

declare const brand: unique symbol;
/** A string that the type system keeps apart from other strings. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** `sha256:<hex>` of the request body's RFC 8785 canonical JSON. */
export type RequestId = Brand<`sha256:${string}`, 'RequestId'>;
export type WarrantId = Brand<string, 'WarrantId'>;
export type DecisionId = Brand<string, 'DecisionId'>;
export type ReceiptId = Brand<string, 'ReceiptId'>;
export type NhiId = Brand<string, 'NhiId'>;
export type PrincipalId = Brand<string, 'PrincipalId'>;

export const REQUEST_ID_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function isRequestId(s: string): s is RequestId {
  return REQUEST_ID_PATTERN.test(s);
}

export const newWarrantId = (): WarrantId => randomId('wrt') as WarrantId;
export const newDecisionId = (): DecisionId => randomId('dec') as DecisionId;
/**
 * Receipt ids key the redemptions table, written on every redemption: ordered by time, a
 * batch of redemptions appends to one page of its unique index (the receipt's `iat`
 * carries the second already; the id adds the millisecond).
 */
export const newReceiptId = (at: Date): ReceiptId => timeOrderedId('rcp', at) as ReceiptId;
