import { CountersignError } from '../core/errors.js';

/**
 * Codes raised by the `log` area.
 *
 * - `LOG_RANGE_INVALID`: a tree size, leaf index or proof range is out of bounds
 *   (negative, not a safe integer, `index >= size`, `m > n`, ...).
 * - `NOTE_INVALID`: a signed note or note key is malformed (C2SP signed-note).
 * - `NOTE_SIGNATURE_INVALID`: a signature by a known key fails, or no known key signed.
 * - `CHECKPOINT_INVALID`: a checkpoint body breaks C2SP tlog-checkpoint.
 * - `LOG_EMPTY`: no checkpoint has been signed yet.
 * - `LOG_INCONSISTENT`: the node store did not return a node the math needs,
 *   or returned a hash of the wrong length.
 */
export type LogErrorCode =
  | 'LOG_RANGE_INVALID'
  | 'NOTE_INVALID'
  | 'NOTE_SIGNATURE_INVALID'
  | 'CHECKPOINT_INVALID'
  | 'LOG_INCONSISTENT'
  | 'LOG_EMPTY';

/** An error raised by the transparency-log math, notes or checkpoints. */
export class LogError extends CountersignError<LogErrorCode> {
  constructor(
    code: LogErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message, options);
    this.name = 'LogError';
  }
}
