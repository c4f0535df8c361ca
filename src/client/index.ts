/**
 * countersign's client SDK (`countersign/client`): the typed HTTP client the CLI runs
 * on, for Node 20 and the browser alike (global `fetch`, WebCrypto through jose; no
 * `node:` modules).
 *
 * @example
 * ```ts
 * import { CountersignClient, isRedemptionDenial } from 'countersign/client';
 * const cs = new CountersignClient({ baseUrl: 'https://countersign.example', token });
 * try {
 *   const { receipt } = await cs.redeem({ warrant, action, idempotencyKey: runId });
 *   const claims = await cs.verifyReceipt(receipt);
 * } catch (e) {
 *   if (isRedemptionDenial(e)) console.error('denied:', e.code);
 *   else throw e;
 * }
 * ```
 */
export { CountersignClient, DEFAULT_TIMEOUT_MS } from './client.js';
export {
  CountersignApiError,
  CountersignClientError,
  isRedemptionDenial,
  REDEMPTION_DENIALS,
} from './errors.js';
export type { ClientErrorCode } from './errors.js';
export { JWKS_REFETCH_INTERVAL_MS, RECEIPT_TYP, verifyReceipt } from './receipt.js';
export { DEFAULT_RETRY, MAX_RETRY_AFTER_MS } from './retry.js';
export type { RetryPolicy } from './retry.js';
export { DEFAULT_WAIT_INTERVAL_MS, DEFAULT_WAIT_TIMEOUT_MS } from './wait.js';
export type * from './types.js';
