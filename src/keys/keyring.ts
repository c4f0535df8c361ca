import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as edSign,
  type KeyObject,
} from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { signCompactJwsOffThread, verifyCompactJwsOffThread } from './jws.js';
import { VerifiedTokenCache } from './verified-cache.js';
import { CountersignError } from '../core/errors.js';
import { encodeVerifierKey, NoteSigner } from '../log/note.js';
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
  readonly #verified = new VerifiedTokenCache<VerifiedJws>();

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

  #noteSigner: NoteSigner | undefined;

  /** The C2SP note signer for checkpoints: the active key under the log's origin name. */
  noteSigner(origin: string): NoteSigner {
    if (this.#noteSigner?.name !== origin) {
      this.#noteSigner = new NoteSigner(origin, this.#active.privateKey as KeyObject);
    }
    return this.#noteSigner;
  }

  /**
   * C2SP verifier keys of stored keys not revoked (or of every key, for auditing what a
   * key signed before its revocation), read without unsealing anything.
   */
  static publicVerifierKeys(
    records: readonly SigningKeyRecord[],
    origin: string,
    includeRevoked = false,
  ): string[] {
    return records
      .filter((r) => includeRevoked || r.state !== 'revoked')
      .map((r) =>
        encodeVerifierKey(
          origin,
          Buffer.from((JSON.parse(r.publicJwk) as JWK).x as string, 'base64url'),
        ),
      );
  }

  /** C2SP verifier keys of every key not revoked, the active one first. */
  logVerifierKeys(origin: string): string[] {
    const raw = (k: LoadedKey) => Buffer.from(k.publicJwk.x as string, 'base64url');
    const others = [...this.#keys.values()].filter(
      (k) => k.state !== 'revoked' && k !== this.#active,
    );
    return [this.#active, ...others].map((k) => encodeVerifierKey(origin, raw(k)));
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
   * Verifies a compact JWS of the expected `typ` against any known key. Returns null
   * for anything that does not verify; the caller decides what a failure means.
   */
  async verifyJws(token: string, typ: string): Promise<VerifiedJws | null> {
    const cached = this.#verified.get(typ, token);
    if (cached) return cached;
    const v = await verifyCompactJwsOffThread(token, typ, (kid) => this.#keys.get(kid)?.publicKey);
    const key = v ? this.#keys.get(v.kid) : undefined;
    if (!v || !key) return null;
    const verified: VerifiedJws = { payload: v.payload, kid: v.kid, keyState: key.state };
    this.#verified.set(typ, token, verified);
    return verified;
  }
}
