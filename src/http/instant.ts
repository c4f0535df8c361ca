import { CountersignError, type CoreErrorCode } from '../core/errors.js';
import { parseRfc3339 } from '../observation/instant.js';

/**
 * An instant a client names in a query or a body: RFC 3339 with an explicit offset, or
 * `VALIDATION_FAILED` naming the field. `new Date` would read `2020` as a year, a time
 * without an offset in the server's zone, and garbage as no filter at all.
 */
export function instantOf(text: string, field: string): Date {
  const at = parseRfc3339(text);
  if (at === null) {
    throw new CountersignError<CoreErrorCode>(
      'VALIDATION_FAILED',
      `${field} must be an RFC 3339 instant with an offset, e.g. 2026-03-01T12:00:00Z`,
    );
  }
  return at;
}
