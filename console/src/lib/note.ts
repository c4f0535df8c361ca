/**
 * C2SP signed-note verification with `crypto.subtle` Ed25519, and the C2SP
 * tlog-checkpoint body it carries: a browser port of src/log/note.ts,
 * src/log/note-key.ts and src/log/checkpoint.ts. Every function answers a result
 * instead of throwing, so a hostile checkpoint only ever fails.
 *
 * @see https://c2sp.org/signed-note
 * @see https://c2sp.org/tlog-checkpoint
 */
import { bytesEqual, concat, fromBase64Strict, sha256, toHex, utf8 } from './bytes.js';

const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 ';
const MAX_SIGNATURES = 100;
const NAME_FORBIDDEN = /[\p{White_Space}+]/u;

export interface VerifierKey {
  readonly name: string;
  /** 4 bytes: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]. */
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array<ArrayBuffer>;
}

export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const no = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

function isNoteText(text: string, allowNewline: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return false;
  }
  return text.isWellFormed();
}

export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !NAME_FORBIDDEN.test(name) && isNoteText(name, false);
}

export async function noteKeyId(name: string, publicKey: Uint8Array): Promise<Uint8Array> {
  const hash = await sha256(concat(utf8(name), new Uint8Array([0x0a, ALG_ED25519]), publicKey));
  return hash.subarray(0, 4);
}

/**
 * Parses a verifier key `name+hex8+base64(0x01 ‖ 32-byte key)` and checks that its
 * key id is the one the name and key imply.
 */
export async function parseVerifierKey(encoded: string): Promise<Result<VerifierKey>> {
  const [name = '', id = '', ...rest] = encoded.trim().split('+');
  const key = fromBase64Strict(rest.join('+'));
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(id) || key === undefined) {
    return no('verifier key is malformed');
  }
  if (key.length !== 33 || key[0] !== ALG_ED25519) return no('verifier key is not an Ed25519 key');
  const publicKey = key.slice(1);
  const keyId = await noteKeyId(name, publicKey);
  if (toHex(keyId) !== id) return no('verifier key id does not match its name and key');
  return { ok: true, value: { name, keyId, publicKey } };
}

async function ed25519Verify(
  publicKey: Uint8Array<ArrayBuffer>,
  signature: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, [
      'verify',
    ]);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, message);
  } catch {
    return false;
  }
}

export interface OpenedNote {
  readonly text: string;
  /** Names of the given keys whose signatures verified. */
  readonly verifiedBy: readonly string[];
}

/**
 * Opens a signed note (C2SP signed-note §Signatures): signatures by unknown keys are
 * ignored; a failing signature by a known key fails the note, as does the absence of
 * any signature by a known key.
 */
export async function openNote(
  note: string,
  keys: readonly VerifierKey[],
): Promise<Result<OpenedNote>> {
  if (!isNoteText(note, true)) return no('note holds control characters or invalid text');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return no('note has no signature block');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) return no('note has no signature block');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) return no('note has too many signatures');
  const message = utf8(text);
  const verifiedBy: string[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) return no('note has a malformed signature line');
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const sig = space < 0 ? undefined : fromBase64Strict(rest.slice(space + 1));
    if (!isValidKeyName(name) || sig === undefined || sig.length < 5) {
      return no('note has a malformed signature line');
    }
    const keyId = sig.subarray(0, 4);
    const key = keys.find((k) => k.name === name && bytesEqual(k.keyId, keyId));
    if (key === undefined) continue;
    const tag = `${name}+${toHex(keyId)}`;
    if (seen.has(tag)) continue;
    seen.add(tag);
    if (!(await ed25519Verify(key.publicKey, sig.slice(4), message))) {
      return no(`the signature by ${name} does not verify`);
    }
    if (!verifiedBy.includes(name)) verifiedBy.push(name);
  }
  if (verifiedBy.length === 0) return no('note has no signature by a known key');
  return { ok: true, value: { text, verifiedBy } };
}

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly rootHashBase64: string;
}

/** Parses a checkpoint body: `origin\nsize\nbase64(root)\n` plus extension lines. */
export function parseCheckpoint(text: string): Result<Checkpoint> {
  if (!text.endsWith('\n')) return no('checkpoint must end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin = '', sizeLine = '', rootLine = ''] = lines;
  if (lines.length < 3) return no('checkpoint needs origin, size and root hash lines');
  if (!lines.every((l) => l.length > 0 && isNoteText(l, false))) {
    return no('checkpoint lines must be non-empty text');
  }
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeLine)) return no('checkpoint size is not a decimal');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) return no('checkpoint size is too large');
  const rootHash = fromBase64Strict(rootLine);
  if (rootHash?.length !== 32) return no('checkpoint root hash is not 32 bytes of base64');
  return { ok: true, value: { origin, size, rootHash, rootHashBase64: rootLine } };
}

/**
 * Verifies a signed checkpoint against the log's verifier keys and parses it. The
 * checkpoint's origin must be the name of a key that signed it (countersign names its
 * log keys after the log's origin, src/service/log-keys.ts).
 */
export async function openCheckpoint(
  note: string,
  keys: readonly VerifierKey[],
): Promise<Result<Checkpoint & { readonly verifiedBy: readonly string[] }>> {
  const opened = await openNote(note, keys);
  if (!opened.ok) return opened;
  const cp = parseCheckpoint(opened.value.text);
  if (!cp.ok) return cp;
  if (!opened.value.verifiedBy.includes(cp.value.origin)) {
    return no('checkpoint origin is not the name of the key that signed it');
  }
  return { ok: true, value: { ...cp.value, verifiedBy: opened.value.verifiedBy } };
}
