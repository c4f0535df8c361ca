import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../../core/crypto.js';
import { parseStrictJson } from '../../core/json.js';

/** An authorization request in flight: what its callback must match. */
export interface PendingLogin {
  readonly issuerName: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly redirectUri: string;
  readonly returnTo: string;
  readonly fresh: boolean;
  readonly startedAt: number;
}

/** How long a person may take at their issuer before the callback is refused. */
export const LOGIN_TTL_MS = 10 * 60_000;

// Binds the ciphertext to its use: a value sealed for anything else never opens here.
const AAD = Buffer.from('countersign console login v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A pending sign-in carried by the browser's login cookie, sealed with AES-256-GCM
 * under a key of this process. The server keeps nothing per sign-in begun, so an
 * unauthenticated flood of `/auth/login` cannot push out a real person's pending
 * sign-in, as a bounded table in memory could. The PKCE verifier and nonce inside are
 * never readable by the browser (or its scripts: the cookie is httpOnly); a sealed
 * value is bound to its `state`, and the issuer's code can be exchanged once.
 */
export class LoginSealer {
  readonly #key: Buffer;

  constructor(key: Buffer = randomBytes(32)) {
    this.#key = key;
  }

  seal(state: string, login: PendingLogin): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv).setAAD(AAD);
    const body = Buffer.concat([
      cipher.update(JSON.stringify({ state, ...login }), 'utf8'),
      cipher.final(),
    ]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The login sealed for `state`, or null: forged, altered, another's, or stale at `now`. */
  open(sealed: string, state: string, now: number): PendingLogin | null {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length <= IV_BYTES + TAG_BYTES) return null;
    let text: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES))
        .setAAD(AAD)
        .setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      text = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      return null;
    }
    // Sealed by this process, so well formed: the strict parse only guards the type.
    const { state: sealedFor, ...login } = parseStrictJson(text) as PendingLogin & {
      state: string;
    };
    if (!constantTimeEqual(sealedFor, state)) return null;
    const age = now - login.startedAt;
    return age < 0 || age > LOGIN_TTL_MS ? null : login;
  }
}
