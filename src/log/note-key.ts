/**
 * Ed25519 note keys (C2SP signed-note §Ed25519 signatures): key IDs, the
 * `name+hex8+base64` key encodings, and cached signer/verifier `KeyObject`s.
 * Re-exported by `note.ts`.
 *
 * @see https://c2sp.org/signed-note
 */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { sha256, type Ed25519Signer } from '../core/crypto.js';
import { decodeBase64Strict } from '../core/base64.js';
import { LogError } from './errors.js';

/** C2SP signed-note §Signature types: `0x01` is Ed25519. */
const ALG_ED25519 = 0x01;
const PRIVATE_PREFIX = 'PRIVATE+KEY+';
// RFC 8410 DER prefixes that wrap a raw 32-byte Ed25519 seed or public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const LONE_SURROGATE = /\p{Surrogate}/u;
// C2SP signed-note §Format: key names MUST be non-empty and contain no Unicode
// spaces or plus (U+002B).
const NAME_FORBIDDEN = /[\p{White_Space}+]/u;

/** @internal */
export function noteError(message: string): LogError {
  return new LogError('NOTE_INVALID', message);
}

/**
 * @internal C2SP signed-note §Format: valid UTF-8 (no lone surrogates in a JS
 * string) and no ASCII control characters (below U+0020) other than newline.
 */
export function isNoteText(text: string, allowNewline: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return false;
  }
  return !LONE_SURROGATE.test(text);
}

/** Whether `name` is a valid key name (C2SP signed-note §Format). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !NAME_FORBIDDEN.test(name) && isNoteText(name, false);
}

/**
 * The Ed25519 key ID: `SHA-256(name || 0x0A || 0x01 || public key)[:4]`
 * (C2SP signed-note §Ed25519 signatures).
 */
export function noteKeyId(name: string, publicKey: Uint8Array): Buffer {
  const input = Buffer.concat([
    Buffer.from(name, 'utf8'),
    Buffer.from([0x0a, ALG_ED25519]),
    publicKey,
  ]);
  return Buffer.from(sha256(input).subarray(0, 4));
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(SPKI_PREFIX.length));
}

function importSeed(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw noteError('Ed25519 seed must be 32 bytes');
  const key = Buffer.concat([PKCS8_PREFIX, seed]);
  return createPrivateKey({ key, format: 'der', type: 'pkcs8' });
}

function importPublic(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32) throw noteError('Ed25519 public key must be 32 bytes');
  const key = Buffer.concat([SPKI_PREFIX, publicKey]);
  return createPublicKey({ key, format: 'der', type: 'spki' });
}

function encodeKey(name: string, publicKey: Uint8Array, material: Uint8Array): string {
  if (!isValidKeyName(name)) throw noteError('key name is not valid');
  const id = noteKeyId(name, publicKey).toString('hex');
  return `${name}+${id}+${Buffer.concat([Buffer.from([ALG_ED25519]), material]).toString('base64')}`;
}

/** Splits `name+hex8+base64(0x01||key)`; checks the name, id form and algorithm byte. */
function splitKey(encoded: string, what: string): { name: string; id: string; key: Buffer } {
  const [name = '', id = '', ...rest] = encoded.split('+');
  const key = decodeBase64Strict(rest.join('+'));
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(id) || key === undefined) {
    throw noteError(`${what} is malformed`);
  }
  if (key.length !== 33 || key[0] !== ALG_ED25519) {
    throw noteError(`${what} is not an Ed25519 key`);
  }
  return { name, id, key: key.subarray(1) };
}

/** A parsed Ed25519 verifier key. */
export interface VerifierKey {
  readonly name: string;
  /** The 4-byte key ID. */
  readonly keyId: Buffer;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
}

/** Encodes a verifier key: `name+hex8(keyid)+base64(0x01||pub)`. */
export function encodeVerifierKey(name: string, publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw noteError('Ed25519 public key must be 32 bytes');
  return encodeKey(name, publicKey, publicKey);
}

/** Parses a verifier key and checks its key ID; throws `NOTE_INVALID` without echoing it. */
export function parseVerifierKey(encoded: string): VerifierKey {
  const { name, id, key } = splitKey(encoded, 'verifier key');
  const keyId = noteKeyId(name, key);
  if (keyId.toString('hex') !== id) throw noteError('verifier key id does not match its key');
  return { name, keyId, publicKey: Buffer.from(key) };
}

/** Encodes a signer key: `PRIVATE+KEY+name+hex8(keyid)+base64(0x01||seed)`. */
export function encodePrivateKey(name: string, seed: Uint8Array): string {
  return PRIVATE_PREFIX + encodeKey(name, rawPublicKey(importSeed(seed)), seed);
}

/** A parsed signer key; the seed stays inside the `KeyObject`. */
export interface PrivateKey {
  readonly name: string;
  readonly keyId: Buffer;
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
}

/** Parses a signer key and checks its key ID; throws `NOTE_INVALID` without echoing it. */
export function parsePrivateKey(encoded: string): PrivateKey {
  if (!encoded.startsWith(PRIVATE_PREFIX)) throw noteError('private key is malformed');
  const { name, id, key } = splitKey(encoded.slice(PRIVATE_PREFIX.length), 'private key');
  const privateKey = importSeed(key);
  const publicKey = rawPublicKey(privateKey);
  const keyId = noteKeyId(name, publicKey);
  if (keyId.toString('hex') !== id) throw noteError('private key id does not match its key');
  return { name, keyId, publicKey, privateKey };
}

/** Signs note texts under one key name. The `KeyObject` is kept, not re-imported per call. */
export class NoteSigner {
  readonly name: string;
  readonly keyId: Buffer;
  readonly publicKey: Buffer;
  readonly #sign: (message: Uint8Array) => Buffer;

  /** A signer over an Ed25519 private key, or over a key ring's signer that keeps its key. */
  constructor(name: string, key: KeyObject | Ed25519Signer) {
    if (!isValidKeyName(name)) throw noteError('key name is not valid');
    this.name = name;
    if ('sign' in key) {
      this.publicKey = Buffer.from(key.publicKey);
      this.#sign = (m) => key.sign(m);
    } else {
      if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
        throw noteError('signer key must be an Ed25519 private key');
      }
      this.publicKey = rawPublicKey(key);
      this.#sign = (m) => sign(null, m, key);
    }
    this.keyId = noteKeyId(name, this.publicKey);
  }

  /** Builds a signer from `PRIVATE+KEY+name+hex8+base64`. */
  static fromPrivateKey(encoded: string): NoteSigner {
    const parsed = parsePrivateKey(encoded);
    return new NoteSigner(parsed.name, parsed.privateKey);
  }

  /** The verifier key string matching this signer. */
  verifierKey(): string {
    return encodeVerifierKey(this.name, this.publicKey);
  }

  /** The 64-byte Ed25519 signature (RFC 8032) of `message`. */
  sign(message: Uint8Array): Buffer {
    return this.#sign(message);
  }
}

/** Verifies signatures by one (name, key ID) pair. */
export class NoteVerifier {
  readonly name: string;
  readonly keyId: Buffer;
  readonly #key: KeyObject;

  constructor(name: string, publicKey: Uint8Array) {
    if (!isValidKeyName(name)) throw noteError('key name is not valid');
    this.#key = importPublic(publicKey);
    this.name = name;
    this.keyId = noteKeyId(name, publicKey);
  }

  /** Builds a verifier from `name+hex8+base64(0x01||pub)`. */
  static fromVerifierKey(encoded: string): NoteVerifier {
    const parsed = parseVerifierKey(encoded);
    return new NoteVerifier(parsed.name, parsed.publicKey);
  }

  /** Whether `signature` is a valid Ed25519 signature of `message`; never throws. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== 64) return false;
    try {
      return verify(null, message, this.#key, signature);
    } catch {
      return false;
    }
  }
}
