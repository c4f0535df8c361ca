/**
 * The key ring's keys in the log's signed-note format: the ring knows keys, the log
 * knows notes, and this is where the two meet.
 */
import { KeyRing, type SigningKeyRecord } from '../keys/keyring.js';
import { encodeVerifierKey, NoteSigner } from '../log/note.js';

/** The note signer for checkpoints: the ring's active key under the log's origin name. */
export function checkpointSigner(keys: KeyRing, origin: string): NoteSigner {
  return new NoteSigner(origin, keys.activeSigner());
}

/** C2SP verifier keys of every key of the ring not revoked, the active one first. */
export function ringVerifierKeys(keys: KeyRing, origin: string): string[] {
  return keys.publicKeys().map((k) => encodeVerifierKey(origin, k.publicKey));
}

/** C2SP verifier keys of every stored key, revoked ones too (they vouch up to their revocation). */
export function storedVerifierKeys(records: readonly SigningKeyRecord[], origin: string): string[] {
  return KeyRing.publicKeysOf(records).map((k) => encodeVerifierKey(origin, k.publicKey));
}
