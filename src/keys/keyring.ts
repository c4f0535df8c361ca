import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as edSign,
  type KeyObject,
} from 'node:crypto';
import type { Static, TObject } from '@sinclair/typebox';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { parseClaims } from './claims.js';
import { signCompactJwsOffThread, verifyCompactJwsOffThread } from './jws.js';
import { VerifiedTokenCache } from './verified-cache.js';
import type { Ed25519Signer } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import { sealPrivateKey, unsealPrivateKey, type KeyErrorCode } from './seal.js';

export type KeyState = 'active' | 'retired' | 'revoked';

/** A signing key as stored: public JWK in clear, private key sealed under the KEK. */
export interface SigningKeyRecord {
  readonly kid: string;
  readonly publicJwk: string;
  readonly sealedPrivate: string;
  readonly state: KeyState;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

interface LoadedKey {
  readonly kid: string;
  readonly state: KeyState;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
  readonly privateKey: KeyObject | null;
}

/** A verified compact JWS: the payload bytes and which key signed it. */
export interface VerifiedJws {
  readonly payload: Uint8Array;
  readonly kid: string;
  readonly keyState: KeyState;
}

/** A verified token's claims, typed by the schema they were checked against, and its key. */
export interface VerifiedClaims<T> {
  readonly claims: T;
  readonly kid: string;
  readonly keyState: KeyState;
}

/** A cached verification remembers the schema its claims were checked against. */
interface CachedClaims {
  readonly schema: TObject;
  readonly verified: VerifiedClaims<unknown>;
}

const rawPublic = (jwk: JWK): Buffer => Buffer.from(jwk.x as string, 'base64url');

/** Creates a fresh Ed25519 signing key, sealed under `kek`. */
export async function generateSigningKey(kek: Uint8Array, now: Date): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x as string });
  const pub: JWK = {
    kty: 'OKP',
    crv: 'Ed25519',
    x: jwk.x as string,
    kid,
    alg: 'EdDSA',
    use: 'sig',
  };
  return {
    kid,
    publicJwk: JSON.stringify(pub),
    sealedPrivate: sealPrivateKey(privateKey.export({ format: 'der', type: 'pkcs8' }), kek, kid),
    state: 'active',
    createdAt: now.toISOString(),
    revokedAt: null,
  };
}

/**
 * The key ring: Ed25519 keys for warrants, receipts, checkpoints and DSSE. KeyObjects
 * are built once and cached; signing never re-parses key material.
 */
export class KeyRing {
  readonly #keys: ReadonlyMap<string, LoadedKey>;
  readonly #active: LoadedKey;
  readonly #verified = new VerifiedTokenCache<CachedClaims>();

  private constructor(keys: Map<string, LoadedKey>, active: LoadedKey) {
    this.#keys = keys;
    this.#active = active;
  }

  static load(records: readonly SigningKeyRecord[], kek: Uint8Array): KeyRing {
    const keys = new Map<string, LoadedKey>();
    let active: LoadedKey | undefined;
    for (const r of records) {
      const publicJwk = JSON.parse(r.publicJwk) as JWK;
      const loaded: LoadedKey = {
        kid: r.kid,
        state: r.state,
        publicJwk,
        publicKey: createPublicKey({ key: publicJwk as Record<string, string>, format: 'jwk' }),
        privateKey:
          r.state === 'active'
            ? createPrivateKey({
                key: unsealPrivateKey(r.sealedPrivate, kek, r.kid),
                format: 'der',
                type: 'pkcs8',
              })
            : null,
      };
      keys.set(r.kid, loaded);
      if (r.state === 'active') active = loaded;
    }
    if (!active) {
      throw new CountersignError<KeyErrorCode>(
        'KEY_UNKNOWN',
        'the key ring has no active signing key',
      );
    }
    return new KeyRing(keys, active);
  }

  #signer: Ed25519Signer | undefined;

  /** The active key as a signer for formats other areas own (signed notes); it keeps the key. */
  activeSigner(): Ed25519Signer {
    const active = this.#active;
    this.#signer ??= {
      publicKey: rawPublic(active.publicJwk),
      sign: (message) => edSign(null, message, active.privateKey as KeyObject),
    };
    return this.#signer;
  }

  /** Every key not revoked, the active one first, as raw public keys. */
  publicKeys(): { readonly kid: string; readonly publicKey: Uint8Array }[] {
    const others = [...this.#keys.values()].filter(
      (k) => k.state !== 'revoked' && k !== this.#active,
    );
    return [this.#active, ...others].map((k) => ({
      kid: k.kid,
      publicKey: rawPublic(k.publicJwk),
    }));
  }

  /** The raw public key of each stored key, read without unsealing anything. */
  static publicKeysOf(
    records: readonly SigningKeyRecord[],
  ): { readonly kid: string; readonly state: KeyState; readonly publicKey: Uint8Array }[] {
    return records.map((r) => ({
      kid: r.kid,
      state: r.state,
      publicKey: rawPublic(JSON.parse(r.publicJwk) as JWK),
    }));
  }

  get activeKid(): string {
    return this.#active.kid;
  }

  get activePublicKey(): KeyObject {
    return this.#active.publicKey;
  }

  isRevoked(kid: string): boolean {
    return this.#keys.get(kid)?.state === 'revoked';
  }

  /** JWKS of every key not revoked, so tokens signed before a rotation still verify. */
  jwks(): { keys: JWK[] } {
    return {
      keys: [...this.#keys.values()].filter((k) => k.state !== 'revoked').map((k) => k.publicJwk),
    };
  }

  /** Signs `payload` as a compact JWS with EdDSA and the active key, on the thread pool. */
  signJws(payload: object, typ: string): Promise<string> {
    const header = { alg: 'EdDSA' as const, kid: this.#active.kid, typ };
    return signCompactJwsOffThread(header, payload, this.#active.privateKey as KeyObject);
  }

  /** Signs raw bytes with the active key (for signed notes and DSSE). */
  signBytes(data: Uint8Array): { kid: string; signature: Buffer } {
    return {
      kid: this.#active.kid,
      signature: edSign(null, data, this.#active.privateKey as KeyObject),
    };
  }

  /**
   * Verifies a compact JWS of the expected `typ` against any known key: the signature
   * only, every time. Signed artefacts are read with {@link verifyClaims}.
   */
  async verifyJws(token: string, typ: string): Promise<VerifiedJws | null> {
    const v = await verifyCompactJwsOffThread(token, typ, (kid) => this.#keys.get(kid)?.publicKey);
    const key = v ? this.#keys.get(v.kid) : undefined;
    if (!v || !key) return null;
    return { payload: v.payload, kid: v.kid, keyState: key.state };
  }

  /**
   * Verifies a compact JWS of the expected `typ` and reads its payload as the claims
   * `schema` describes (strict JSON: duplicate keys refused). Null for anything that
   * does not verify or does not fit; the caller decides what a failure means.
   *
   * A token that verified and fitted is remembered with its claims, so a many-use
   * warrant presented again is neither verified nor parsed again. The cache belongs to
   * this ring: a rotation or revocation loads a new ring, which starts empty, so a
   * key's new state is never hidden behind an old answer.
   */
  async verifyClaims<S extends TObject>(
    token: string,
    typ: string,
    schema: S,
  ): Promise<VerifiedClaims<Static<S>> | null> {
    const hit = this.#verified.get(typ, token);
    // Claims cached under this very schema object were checked against it: that is what
    // makes the narrowing below sound. Another schema falls through to a fresh check.
    if (hit?.schema === schema) return hit.verified as VerifiedClaims<Static<S>>;
    const jws = await this.verifyJws(token, typ);
    const claims = jws ? parseClaims(jws.payload, schema) : null;
    if (!jws || claims === null) return null;
    const verified: VerifiedClaims<Static<S>> = { claims, kid: jws.kid, keyState: jws.keyState };
    this.#verified.set(typ, token, { schema, verified });
    return verified;
  }
}
