/**
 * Every href the console renders is built here from fixed route shapes; a user
 * string only ever becomes a percent-encoded path segment or query value, never a
 * scheme, so no `javascript:` or off-site link can be rendered.
 */
import { isRequestId } from './digest.js';

export const requestPath = (id: string): string => `/requests/${encodeURIComponent(id)}`;
export const timelinePath = (id: string): string => `${requestPath(id)}/timeline`;
export const evidencePath = (id: string): string =>
  `/v1/requests/${encodeURIComponent(id)}/evidence`;

/** A same-origin path to come back to, or `/` for anything else. */
export function safeReturnTo(path: string): string {
  // No dot segments either: `/.//evil.example` resolves to `//evil.example`, another origin.
  const dots = /(^|\/)(\.|%2e){1,2}(\/|$)/i.test(path);
  return path.startsWith('/') && !path.startsWith('//') && !path.includes('\\') && !dots
    ? path
    : '/';
}

/** `/auth/login?issuer=…&returnTo=…` (and `fresh=1` to force a new sign-in). */
export function loginPath(issuer: string, returnTo: string, fresh = false): string {
  const q = new URLSearchParams({ issuer, returnTo: safeReturnTo(returnTo) });
  if (fresh) q.set('fresh', '1');
  return `/auth/login?${q.toString()}`;
}

/** Decodes a request id from a route parameter, or `undefined` when it is not one. */
export function requestIdParam(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return isRequestId(id) ? id : undefined;
}
