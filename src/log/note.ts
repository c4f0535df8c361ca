/**
 * C2SP signed notes: text, a blank line, and `— name base64(keyid || sig)` lines.
 * Signing and verification go through `node:crypto` Ed25519 only.
 *
 * @see https://c2sp.org/signed-note
 */
import { LogError } from './errors.js';
import { decodeBase64Strict } from '../core/base64.js';
import { NoteSigner, isNoteText, isValidKeyName, noteError } from './note-key.js';
import type { NoteVerifier } from './note-key.js';

export type { PrivateKey, VerifierKey } from './note-key.js';
export {
  NoteSigner,
  NoteVerifier,
  encodePrivateKey,
  encodeVerifierKey,
  isValidKeyName,
  noteKeyId,
  parsePrivateKey,
  parseVerifierKey,
} from './note-key.js';

/** Every signature line starts with an em dash (U+2014) and a space. */
const SIG_PREFIX = '\u2014 ';
/** Verifiers SHOULD cap signatures and MUST accept 16; we cap at 100 as golang.org/x/mod does. */
const MAX_SIGNATURES = 100;

function assertNoteChars(text: string): void {
  if (!isNoteText(text, true)) {
    throw noteError('note contains control characters or invalid UTF-8');
  }
}

/**
 * Signs `text` and returns the full note: the text (ending in a newline), a blank
 * line, and one `— name base64(keyid || sig)` line per signer.
 *
 * @example
 * ```ts
 * const note = signNote(formatCheckpoint(cp), NoteSigner.fromPrivateKey(skey));
 * ```
 */
export function signNote(text: string, signers: NoteSigner | readonly NoteSigner[]): string {
  assertNoteChars(text);
  if (!text.endsWith('\n')) throw noteError('note text must end with a newline');
  const list = signers instanceof NoteSigner ? [signers] : signers;
  if (list.length === 0) throw noteError('a note needs at least one signer');
  const message = Buffer.from(text, 'utf8');
  const lines = list.map((s) => {
    const sig = Buffer.concat([s.keyId, s.sign(message)]).toString('base64');
    return `${SIG_PREFIX}${s.name} ${sig}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/** A note whose text was verified by at least one known key. */
export interface OpenedNote {
  readonly text: string;
  /** Names of the known keys whose signatures verified. */
  readonly verifiedBy: string[];
  /** The known keys whose signatures verified (several keys may share a name). */
  readonly verifiedKeys: NoteVerifier[];
}

function decodeNote(note: string | Uint8Array): string {
  if (typeof note === 'string') return note;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
  } catch {
    throw noteError('note is not valid UTF-8');
  }
}

/**
 * Parses a signed note and verifies it (C2SP signed-note §Signatures): signatures
 * from unknown keys are ignored; a failing signature from a known key rejects the
 * note (`NOTE_SIGNATURE_INVALID`), as does the absence of any known signature.
 * Malformed notes raise `NOTE_INVALID`.
 *
 * Every line whose key name and id match a known key is verified, repeated ones
 * included: the spec says verifiers MUST verify such a signature and SHOULD reject the
 * note if it fails, and makes no exception for a key that signed twice. A valid repeat
 * is accepted (the spec does not forbid it) and the key is listed once. This is
 * stricter than golang.org/x/mod/sumdb/note, which drops a key's later lines unchecked;
 * a note that passes here passes there. `MAX_SIGNATURES` bounds the work.
 */
export function openNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): OpenedNote {
  const msg = decodeNote(note);
  assertNoteChars(msg);
  // The text is separated from the signatures by the last empty line.
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw noteError('note has no signature block');
  const text = msg.slice(0, split + 1);
  const block = msg.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) throw noteError('note has no signature block');
  const sigLines = block.slice(0, -1).split('\n');
  if (sigLines.length > MAX_SIGNATURES) throw noteError('note has too many signatures');
  const message = Buffer.from(text, 'utf8');
  const seen = new Set<string>();
  const verifiedBy: string[] = [];
  const verifiedKeys: NoteVerifier[] = [];
  for (const line of sigLines) {
    if (!line.startsWith(SIG_PREFIX)) throw noteError('note has a malformed signature line');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const sig = space < 0 ? undefined : decodeBase64Strict(rest.slice(space + 1));
    if (!isValidKeyName(name) || sig === undefined || sig.length < 5) {
      throw noteError('note has a malformed signature line');
    }
    const keyId = sig.subarray(0, 4);
    const verifier = verifiers.find((v) => v.name === name && v.keyId.equals(keyId));
    if (verifier === undefined) continue; // unknown keys MUST be ignored
    if (!verifier.verify(message, sig.subarray(4))) {
      throw new LogError('NOTE_SIGNATURE_INVALID', 'a signature by a known key does not verify', {
        details: { keyName: name },
      });
    }
    const id = `${name}+${keyId.toString('hex')}`;
    if (seen.has(id)) continue; // a valid repeat by one key adds nothing
    seen.add(id);
    if (!verifiedBy.includes(name)) verifiedBy.push(name);
    verifiedKeys.push(verifier);
  }
  if (verifiedBy.length === 0) {
    throw new LogError('NOTE_SIGNATURE_INVALID', 'note has no signature from a known key');
  }
  return { text, verifiedBy, verifiedKeys };
}
