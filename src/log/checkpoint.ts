/**
 * C2SP tlog-checkpoint note bodies: `origin\nsize\nbase64(root)\n` plus optional
 * extension lines.
 *
 * @see https://c2sp.org/tlog-checkpoint
 */
import { decodeBase64Strict } from '../core/base64.js';
import { LogError } from './errors.js';
import { HASH_SIZE } from './hash.js';
import { openNote, signNote } from './note.js';
import type { NoteSigner, NoteVerifier } from './note.js';

/** A parsed checkpoint body. */
export interface Checkpoint {
  /** The log identity; it SHOULD match the log's key name. */
  readonly origin: string;
  /** Number of leaves in the tree. */
  readonly size: number;
  /** The RFC 6962 root hash of the tree at `size`. */
  readonly rootHash: Buffer;
  /** Opaque extension lines, usually empty (their use is NOT RECOMMENDED). */
  readonly extensions: readonly string[];
}

/** Input to {@link formatCheckpoint}. */
export interface CheckpointInput {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly extensions?: readonly string[];
}

// tlog-checkpoint §Note text: ASCII decimal with no leading zeroes (unless 0).
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

function invalid(message: string): LogError {
  return new LogError('CHECKPOINT_INVALID', message);
}

/** A non-empty line with no newline, control character or lone surrogate. */
function isLine(line: string): boolean {
  if (line.length === 0 || /\p{Surrogate}/u.test(line)) return false;
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) < 0x20) return false;
  return true;
}

/**
 * Formats the note text of a checkpoint (C2SP tlog-checkpoint §Note text).
 *
 * @example
 * ```ts
 * const body = formatCheckpoint({ origin: 'example.com/log', size: 8, rootHash: root });
 * // 'example.com/log\n8\n<base64 of the 32-byte root>\n'
 * ```
 */
export function formatCheckpoint(input: CheckpointInput): string {
  const { origin, size, rootHash, extensions = [] } = input;
  if (!isLine(origin)) throw invalid('checkpoint origin must be a non-empty line');
  if (!Number.isSafeInteger(size) || size < 0) {
    throw invalid('checkpoint size must be a non-negative safe integer');
  }
  if (rootHash.length !== HASH_SIZE) throw invalid('checkpoint root hash must be 32 bytes');
  if (!extensions.every(isLine)) throw invalid('checkpoint extension lines must be non-empty');
  const lines = [origin, String(size), Buffer.from(rootHash).toString('base64'), ...extensions];
  return `${lines.join('\n')}\n`;
}

/**
 * Parses and strictly validates a checkpoint body: at least three non-empty
 * lines, a canonical decimal size, and a 32-byte base64 root hash. Throws
 * `CHECKPOINT_INVALID`.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw invalid('checkpoint must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin = '', sizeLine = '', rootLine = '', ...extensions] = lines;
  if (lines.length < 3) throw invalid('checkpoint needs origin, size and root hash lines');
  if (!lines.every(isLine)) throw invalid('checkpoint lines must be non-empty text');
  if (!DECIMAL.test(sizeLine)) throw invalid('checkpoint size is not a canonical decimal');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw invalid('checkpoint size exceeds the supported range');
  const rootHash = decodeBase64Strict(rootLine);
  if (rootHash?.length !== HASH_SIZE) throw invalid('checkpoint root hash must be 32 bytes');
  return { origin, size, rootHash, extensions };
}

/** Formats `checkpoint` and signs it as a note (C2SP tlog-checkpoint §Signatures). */
export function signCheckpoint(
  checkpoint: CheckpointInput,
  signers: NoteSigner | readonly NoteSigner[],
): string {
  return signNote(formatCheckpoint(checkpoint), signers);
}

/** A checkpoint whose note verified under at least one known key. */
export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly verifiedBy: string[];
  readonly verifiedKeys: NoteVerifier[];
}

/**
 * Verifies a signed checkpoint note and parses its body. When `origin` is given,
 * the checkpoint must carry exactly that origin (`CHECKPOINT_INVALID` otherwise).
 */
export function openCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  options: { readonly origin?: string } = {},
): OpenedCheckpoint {
  const { text, verifiedBy, verifiedKeys } = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    throw invalid('checkpoint origin does not match the expected log');
  }
  return { checkpoint, verifiedBy, verifiedKeys };
}
