import type { RequestState } from './request.js';

/** What can happen to a request after it is created. */
export type RequestTransition = 'approve' | 'deny' | 'expire' | 'withdraw' | 'revoke' | 'exhaust';

/**
 * The request state machine. Returns the next state, or null when the transition
 * is not allowed from `from`. Terminal states accept nothing.
 */
export function nextState(from: RequestState, t: RequestTransition): RequestState | null {
  switch (from) {
    case 'pending':
      switch (t) {
        case 'approve':
          return 'approved';
        case 'deny':
          return 'denied';
        case 'expire':
          return 'expired';
        case 'withdraw':
          return 'withdrawn';
        case 'revoke':
        case 'exhaust':
          return null;
      }
      break;
    case 'approved':
      switch (t) {
        case 'revoke':
          return 'revoked';
        case 'exhaust':
          return 'exhausted';
        case 'expire':
          return 'expired';
        case 'approve':
        case 'deny':
        case 'withdraw':
          return null;
      }
      break;
    case 'denied':
    case 'expired':
    case 'withdrawn':
    case 'revoked':
    case 'exhausted':
      return null;
  }
}

/** A pending request whose approval deadline has passed reads as expired. */
export function effectiveState(
  state: RequestState,
  pendingExpiresAt: string,
  now: Date,
): RequestState {
  if (state === 'pending' && now.getTime() >= Date.parse(pendingExpiresAt)) return 'expired';
  return state;
}
