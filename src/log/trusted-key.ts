import type { NoteVerifier } from './note-key.js';

/**
 * A log key the verifier trusts, with what it knows of the key's revocation. Whether a
 * revoked key's checkpoint counts is decided by log position, never by a clock: the
 * revocation is itself a log event at some index N, so a checkpoint the key signed over
 * a tree of more than N entries (one that holds its own revocation) is refused.
 */
export interface TrustedLogKey {
  /** The key's label in reports (countersign uses the RFC 7638 thumbprint, the JWK kid). */
  readonly kid: string;
  readonly verifier: NoteVerifier;
  /** The leaf index of the key's revocation event, when the verifier knows it up front. */
  readonly revokedAtIndex?: number | null;
}

/** The leaf index at which `kid` was revoked, from either source, the earliest winning. */
export function revocationIndex(
  key: TrustedLogKey,
  discovered: ReadonlyMap<string, number> | undefined,
): number | undefined {
  const known = key.revokedAtIndex ?? undefined;
  const seen = discovered?.get(key.kid);
  if (known === undefined) return seen;
  return seen === undefined ? known : Math.min(known, seen);
}

/** True when a checkpoint of `size` signed by `key` was signed after the key's revocation. */
export function signedAfterRevocation(
  key: TrustedLogKey,
  size: number,
  discovered?: ReadonlyMap<string, number>,
): boolean {
  const revokedAt = revocationIndex(key, discovered);
  return revokedAt !== undefined && size > revokedAt;
}
