import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CountersignError } from '../core/errors.js';

export type KeyErrorCode =
  | 'KEK_MISSING'
  | 'KEK_INVALID'
  | 'KEY_UNSEAL_FAILED'
  | 'KEY_REVOKED'
  | 'KEY_UNKNOWN'
  | 'KEY_NOT_FOUND'
  | 'KEY_ALREADY_REVOKED';

const PREFIX = 'aes256gcm.v1.';

/**
 * Private keys are stored sealed with AES-256-GCM under a key-encryption key (KEK)
 * that never enters the database. The key id is bound as associated data so that a
 * sealed key cannot be swapped onto another key's row.
 */
export function sealPrivateKey(pkcs8: Uint8Array, kek: Uint8Array, kid: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(Buffer.from(kid, 'utf8'));
  const ct = Buffer.concat([c.update(pkcs8), c.final()]);
  return PREFIX + Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64url');
}

export function unsealPrivateKey(sealed: string, kek: Uint8Array, kid: string): Buffer {
  if (!sealed.startsWith(PREFIX)) {
    throw new CountersignError<KeyErrorCode>(
      'KEY_UNSEAL_FAILED',
      `key ${kid} has an unknown seal format`,
    );
  }
  const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
  try {
    const d = createDecipheriv('aes-256-gcm', kek, raw.subarray(0, 12));
    d.setAAD(Buffer.from(kid, 'utf8'));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
  } catch (cause) {
    throw new CountersignError<KeyErrorCode>(
      'KEY_UNSEAL_FAILED',
      `key ${kid} cannot be unsealed with this key-encryption key`,
      { cause },
    );
  }
}

/** Parses a KEK given as 64 hex characters or 32 bytes of base64/base64url. */
export function parseKek(text: string): Buffer {
  const t = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64url');
  if (bytes.length !== 32) {
    throw new CountersignError<KeyErrorCode>(
      'KEK_INVALID',
      'the key-encryption key must be 32 bytes',
    );
  }
  return bytes;
}
