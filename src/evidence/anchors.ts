/**
 * @internal The trust anchors of an offline verify: which log keys and signing keys the
 * verifier pinned, and what each vouches for. A revoked key vouches for what it signed into
 * a tree that did not yet hold its revocation: decided by log position, never by a clock.
 */
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { openCheckpoint } from '../log/checkpoint.js';
import type { Checkpoint } from '../log/checkpoint.js';
import type { EvidenceBundle } from './bundle.js';
import type { Add, Jwks } from './checks.js';
import { why } from './checks.js';
import { ed25519FromJwk, noteVerifierFor } from './key-cache.js';
import { shapeJwks } from './shape.js';

/** One pinned log key and, when known, the log index of its revocation. */
export interface LogKeyPin {
  /** A C2SP signed-note verifier key. */
  readonly verifierKey: string;
  /** Leaf index of the key's `key.revoked` event: it vouches for trees no larger than that. */
  readonly revokedAtIndex?: number | null;
}

/** A signing key no longer published (revoked), pinned with its revocation position. */
export interface RevokedKeyPin {
  readonly jwk: JWK;
  readonly revokedAtIndex: number;
}

/** Trust anchors pinned by the verifier. Whatever is not given is taken from the bundle. */
export interface TrustAnchors {
  /** The C2SP verifier key of the log (one key; `logKeys` pins a whole history). */
  readonly logVerifierKey?: string;
  /** Every log key the verifier trusts, with revocation positions (a trust file's `logKeys`). */
  readonly logKeys?: readonly LogKeyPin[];
  /** The JWKS of the keys that sign warrants and attestations. */
  readonly jwks?: { readonly keys: readonly JWK[] };
  /** Revoked signing keys, which vouch for what they signed before their revocation. */
  readonly revokedKeys?: readonly RevokedKeyPin[];
}

/** The signing keys in force: the JWKS, and revoked keys with their positions. */
export interface SigningKeys {
  readonly jwks: Jwks;
  readonly revoked: readonly RevokedKeyPin[];
}

/** The pinned log keys, or null when none were given (the bundle's own key is used). */
export function pinnedLogKeys(trust: TrustAnchors): LogKeyPin[] | null {
  const pins = [
    ...(trust.logVerifierKey === undefined ? [] : [{ verifierKey: trust.logVerifierKey }]),
    ...(trust.logKeys ?? []),
  ];
  if (pins.length === 0) return null;
  // A key pinned twice (a single key beside a trust file) keeps its earliest known revocation,
  // as `log verify` does: a second pin never vouches for trees the first one refuses.
  const merged = new Map<string, LogKeyPin>();
  for (const pin of pins) {
    const at = [merged.get(pin.verifierKey)?.revokedAtIndex, pin.revokedAtIndex].filter(
      (i): i is number => typeof i === 'number',
    );
    merged.set(pin.verifierKey, {
      verifierKey: pin.verifierKey,
      ...(at.length > 0 ? { revokedAtIndex: Math.min(...at) } : {}),
    });
  }
  return [...merged.values()];
}

export function logKeysInForce(b: EvidenceBundle, trust: TrustAnchors, add: Add): LogKeyPin[] {
  const pins = pinnedLogKeys(trust);
  if (pins === null) return [{ verifierKey: b.logVerifierKey }];
  const known = pins.some((k) => k.verifierKey === b.logVerifierKey);
  add(
    'LOG_KEY_MISMATCH',
    known,
    known ? 'embedded log key is a pinned key' : 'embedded log key is not a pinned key',
  );
  return pins;
}

export function signingKeysInForce(
  b: EvidenceBundle,
  trust: TrustAnchors,
  add: Add,
): SigningKeys | undefined {
  if (trust.jwks === undefined) return { jwks: b.jwks, revoked: [] };
  const pinned = shapeJwks(trust.jwks);
  if (!pinned.ok) {
    add('JWKS_MISMATCH', false, `pinned JWKS is malformed: ${pinned.reason}`);
    return undefined;
  }
  const revoked = trust.revokedKeys ?? [];
  const all = [...pinned.value.keys, ...revoked.map((r) => r.jwk)];
  const unknown = b.jwks.keys.filter((k) => !all.some((t) => t.kid === k.kid && t.x === k.x));
  add(
    'JWKS_MISMATCH',
    unknown.length === 0,
    unknown.length === 0
      ? 'every embedded key is a pinned key'
      : `${unknown.length} embedded key(s) are not pinned`,
  );
  return { jwks: pinned.value, revoked };
}

/** Resolves a kid to a key that vouches for a tree of `size` entries. */
export function keysAt(keys: SigningKeys, size: number): (keyid: string) => KeyObject | undefined {
  return (keyid) => {
    // A known revocation wins over a JWKS that still lists the key (an older copy of it).
    const revoked = keys.revoked.filter((r) => r.jwk.kid === keyid);
    const first = revoked[0];
    if (first !== undefined) {
      const at = Math.min(...revoked.map((r) => r.revokedAtIndex));
      return size <= at ? ed25519FromJwk(first.jwk) : undefined;
    }
    const current = keys.jwks.keys.find((k) => k.kid === keyid);
    return current === undefined ? undefined : ed25519FromJwk(current);
  };
}

export function openCp(note: string, pins: readonly LogKeyPin[], add: Add): Checkpoint | undefined {
  try {
    const verifiers = pins.flatMap((k) => {
      try {
        return [{ pin: k, verifier: noteVerifierFor(k.verifierKey) }];
      } catch {
        return [];
      }
    });
    const { checkpoint, verifiedKeys } = openCheckpoint(
      note,
      verifiers.map((v) => v.verifier),
    );
    // Decided by log position, not by a clock: a key vouches only for trees that do
    // not yet hold its own revocation event.
    const sound = verifiers.filter(
      (v) =>
        verifiedKeys.includes(v.verifier) &&
        !(typeof v.pin.revokedAtIndex === 'number' && checkpoint.size > v.pin.revokedAtIndex),
    );
    add(
      'CHECKPOINT_SIGNATURE_INVALID',
      sound.length > 0,
      sound.length > 0
        ? `checkpoint of size ${checkpoint.size} signed by a trusted log key`
        : `checkpoint of size ${checkpoint.size} was signed by a key after its revocation`,
    );
    return sound.length > 0 ? checkpoint : undefined;
  } catch (e) {
    add(
      'CHECKPOINT_SIGNATURE_INVALID',
      false,
      `checkpoint does not verify under the log key${why(e)}`,
    );
    return undefined;
  }
}
