import { decodeBase64UrlStrict } from '../../core/base64.js';
import { VERSION_ACTIONS } from '../../reconcile/indexes.js';

/**
 * The request action a warrant names (`grant`, `rotate` …), read from its payload
 * WITHOUT verifying it, or null when the token does not parse. Only good for advice
 * given before redeeming: the server verifies the warrant and decides.
 */
export function unverifiedWarrantAction(token: string): string | null {
  const payload = token.split('.')[1];
  const bytes = payload === undefined ? undefined : decodeBase64UrlStrict(payload);
  if (bytes === undefined) return null;
  try {
    const claims = JSON.parse(bytes.toString('utf8')) as unknown;
    const action = (claims as { action?: unknown } | null)?.action;
    return typeof action === 'string' ? action : null;
  } catch {
    return null;
  }
}

/**
 * Whether the warrant's successful fulfilment claims a secret version: the reconciler
 * compares its fingerprint with what collectors observe, so only the real digest of the
 * result will do.
 */
export function claimsVersion(token: string): boolean {
  const action = unverifiedWarrantAction(token);
  return action !== null && (VERSION_ACTIONS as readonly string[]).includes(action);
}
