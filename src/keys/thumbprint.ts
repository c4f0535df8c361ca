import { createHash } from 'node:crypto';

/**
 * The RFC 7638 JWK thumbprint of an Ed25519 public key: SHA-256 over the required
 * members (`crv`, `kty`, `x`) in lexicographic order with no whitespace, base64url.
 * It is the `kid` countersign gives its keys, so a key can be named from its raw bytes
 * (a C2SP verifier key) without a JWK at hand.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3.2
 */
export function ed25519Thumbprint(publicKey: Uint8Array): string {
  const x = Buffer.from(publicKey).toString('base64url');
  return createHash('sha256')
    .update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`)
    .digest('base64url');
}
