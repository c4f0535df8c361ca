/**
 * The base of every error countersign raises on purpose. Each area exports a closed
 * union of its codes; `http/problem.ts` is the only place that maps a code to a status.
 *
 * Messages name the failing field or check, never a token, warrant or key value.
 */
export class CountersignError<C extends string = string> extends Error {
  readonly code: C;
  /** Extra machine-readable facts for the problem body (never secrets). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: C,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CountersignError';
    this.code = code;
    this.details = options?.details;
  }
}

/** Codes raised by the core helpers (input parsing, canonicalisation). */
export type CoreErrorCode =
  | 'INVALID_JSON'
  | 'INVALID_UTF8'
  | 'DUPLICATE_JSON_KEY'
  | 'JSON_TOO_DEEP'
  | 'LONE_SURROGATE'
  | 'NUL_CHARACTER'
  | 'NON_CANONICAL_VALUE'
  | 'VALIDATION_FAILED'
  | 'INVALID_SCOPE';

export function isCountersignError(e: unknown): e is CountersignError {
  return e instanceof CountersignError;
}
