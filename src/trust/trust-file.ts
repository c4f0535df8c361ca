/**
 * The auditor's trust file: every log verifier key the server has ever used, with its
 * state and the log index of its revocation, and the JWKS, exactly as the server
 * publishes them (`GET /v1/log/verifier-keys`, `GET /.well-known/jwks.json`). Fetched
 * once from the server one trusts, it pins the whole key history, so checkpoints and
 * bundles made before any number of rotations still verify.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { JWK } from 'jose';
import { CountersignError } from '../core/errors.js';
import { parseStrictJson } from '../core/json.js';
import { ed25519Thumbprint } from '../keys/thumbprint.js';
import { NoteVerifier, parseVerifierKey } from '../log/note.js';
import type { TrustedLogKey } from '../log/trusted-key.js';

/** Every key a log ever used stays listed: a key a day for over 25 years (as a bundle's JWKS). */
const MAX_KEYS = 10_000;

export const LogKeyEntrySchema = Type.Object(
  {
    kid: Type.String({ minLength: 1, maxLength: 256 }),
    /** The C2SP signed-note verifier key: `origin+hex8+base64(0x01||pub)`. */
    verifierKey: Type.String({ minLength: 1, maxLength: 1024 }),
    state: Type.Union([Type.Literal('active'), Type.Literal('retired'), Type.Literal('revoked')]),
    createdAt: Type.String({ maxLength: 64 }),
    revokedAt: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    /** The leaf index of the key's `key.revoked` event, once it is in the log. */
    revokedAtIndex: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type LogKeyEntry = Static<typeof LogKeyEntrySchema>;

/** What `GET /v1/log/verifier-keys` answers. */
export const VerifierKeysSchema = Type.Object(
  {
    origin: Type.String({ minLength: 1, maxLength: 256 }),
    keys: Type.Array(LogKeyEntrySchema, { maxItems: MAX_KEYS }),
  },
  { additionalProperties: false },
);
export type VerifierKeys = Static<typeof VerifierKeysSchema>;

export const TrustFileSchema = Type.Object(
  {
    origin: Type.String({ minLength: 1, maxLength: 256 }),
    logKeys: Type.Array(LogKeyEntrySchema, { minItems: 1, maxItems: MAX_KEYS }),
    jwks: Type.Object(
      { keys: Type.Array(Type.Unknown(), { maxItems: MAX_KEYS }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type TrustFile = Static<typeof TrustFileSchema>;

export type TrustErrorCode = 'TRUST_FILE_INVALID';

function invalid(message: string): CountersignError<TrustErrorCode> {
  return new CountersignError('TRUST_FILE_INVALID', `trust file: ${message}`);
}

/** The pinned anchors a trust file gives a verifier. */
export interface Trust {
  readonly origin: string;
  readonly logKeys: readonly TrustedLogKey[];
  /** The C2SP verifier keys, in file order, for verifiers that take them as text. */
  readonly verifierKeys: readonly string[];
  readonly jwks: { readonly keys: readonly JWK[] };
  /**
   * Revoked keys as JWKs with their revocation position: no longer in the JWKS, they
   * still vouch for the warrants and attestations they signed before it.
   */
  readonly revokedKeys: readonly { readonly jwk: JWK; readonly revokedAtIndex: number }[];
}

/**
 * A trusted log key from a verifier key's text. Its `kid` is computed from the key
 * bytes, so a label given beside it must agree.
 */
export function trustedLogKey(verifierKey: string, revokedAtIndex?: number | null): TrustedLogKey {
  const parsed = parseVerifierKey(verifierKey.trim());
  return {
    kid: ed25519Thumbprint(parsed.publicKey),
    verifier: new NoteVerifier(parsed.name, parsed.publicKey),
    ...(revokedAtIndex === undefined ? {} : { revokedAtIndex }),
  };
}

/** Reads the log keys of a verifier-keys listing or a trust file, checking each kid. */
export function trustedLogKeys(entries: readonly LogKeyEntry[], origin: string): TrustedLogKey[] {
  return entries.map((e, i) => {
    let key: TrustedLogKey;
    try {
      key = trustedLogKey(e.verifierKey, e.revokedAtIndex);
    } catch {
      throw invalid(`logKeys/${i}: not a C2SP verifier key`);
    }
    if (key.kid !== e.kid) throw invalid(`logKeys/${i}: kid does not match the key`);
    if (key.verifier.name !== origin) throw invalid(`logKeys/${i}: key name is not the origin`);
    return key;
  });
}

function ed25519Jwk(publicKey: Uint8Array, kid: string): JWK {
  return { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url'), kid };
}

/** Parses and checks a trust file; throws `TRUST_FILE_INVALID` naming what is wrong. */
export function parseTrustFile(text: string): Trust {
  let doc: unknown;
  try {
    doc = parseStrictJson(text);
  } catch (e) {
    throw invalid(`not strict JSON (${(e as Error).message})`);
  }
  const first = Value.Errors(TrustFileSchema, doc).First();
  if (first) throw invalid(`${first.path || '/'}: ${first.message}`);
  const file = doc as TrustFile;
  const logKeys = trustedLogKeys(file.logKeys, file.origin);
  return {
    origin: file.origin,
    logKeys,
    verifierKeys: file.logKeys.map((k) => k.verifierKey),
    jwks: { keys: file.jwks.keys as JWK[] },
    revokedKeys: file.logKeys.flatMap((k) =>
      k.revokedAtIndex === null
        ? []
        : [
            {
              jwk: ed25519Jwk(parseVerifierKey(k.verifierKey).publicKey, k.kid),
              revokedAtIndex: k.revokedAtIndex,
            },
          ],
    ),
  };
}
