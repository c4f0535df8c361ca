import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 of bytes or a UTF-8 string. */
export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Compares two digests or MACs without leaking where they differ. Inputs of
 * different lengths are unequal; the length itself is not secret for digests.
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
  const y = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}

/** A random, URL-safe identifier with `bytes` of entropy. */
export function randomId(prefix: string, bytes = 16): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}

export function randomNonce(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
