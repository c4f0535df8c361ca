import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { NoteVerifier } from '../log/note.js';

const MAX = 256;
const jwkKeys = new Map<string, KeyObject>();
const noteVerifiers = new Map<string, NoteVerifier>();

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = make();
  if (cache.size >= MAX) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
  return value;
}

/**
 * An Ed25519 public KeyObject for a JWK, cached by its `x`: a verifier checking many
 * bundles signed by one key ring imports each key once.
 */
export function ed25519FromJwk(jwk: JWK): KeyObject | undefined {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') return undefined;
  const x = jwk.x;
  try {
    return remember(jwkKeys, x, () =>
      createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x } as JsonWebKey, format: 'jwk' }),
    );
  } catch {
    return undefined;
  }
}

/** A NoteVerifier for a C2SP verifier key string, cached; throws like `fromVerifierKey`. */
export function noteVerifierFor(verifierKey: string): NoteVerifier {
  return remember(noteVerifiers, verifierKey, () => NoteVerifier.fromVerifierKey(verifierKey));
}
