import { STATUS, type ErrorCode } from './problem.js';

/**
 * The `WWW-Authenticate` challenge of a 401 answer, or null for any other status.
 *
 * - RFC 6750 §3: a request without credentials gets a bare `Bearer` challenge; a
 *   token that fails verification gets `error="invalid_token"`.
 * - RFC 9470 §3 (step-up authentication): a token whose sign-in is too old for the
 *   operation gets `error="insufficient_user_authentication"` and the `max_age` the
 *   client should request when it sends the person back to the identity provider.
 */
export function bearerChallenge(
  code: ErrorCode,
  details: Readonly<Record<string, unknown>> | undefined,
): string | null {
  if (STATUS[code] !== 401) return null;
  if (code === 'UNAUTHENTICATED') return 'Bearer';
  if (code !== 'AUTH_TOO_OLD') return 'Bearer error="invalid_token"';
  const maxAge = details?.['maxAge'];
  return [
    'Bearer error="insufficient_user_authentication"',
    'error_description="a more recent sign-in is required"',
    ...(typeof maxAge === 'number' && Number.isSafeInteger(maxAge) ? [`max_age=${maxAge}`] : []),
  ].join(', ');
}
