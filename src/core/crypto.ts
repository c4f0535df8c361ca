import { createHash, randomFillSync, timingSafeEqual } from 'node:crypto';

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

// One CSPRNG call fills a pool that many identifiers draw from (as Node's randomUUID
// does): a call per identifier showed up in the redemption profile.
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function randomBase64Url(bytes: number): string {
  if (bytes > POOL_SIZE) return randomFillSync(Buffer.alloc(bytes)).toString('base64url');
  if (poolOffset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.toString('base64url', poolOffset, poolOffset + bytes);
  // Zero what was handed out, so no value stays readable in the pool after use.
  pool.fill(0, poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return out;
}

/** A random, URL-safe identifier with `bytes` of entropy. */
export function randomId(prefix: string, bytes = 16): string {
  return `${prefix}_${randomBase64Url(bytes)}`;
}

/**
 * A random identifier that sorts by `at` to the millisecond, and within one millisecond
 * by when it was made in this process: nine base-36 digits of the epoch milliseconds
 * (fixed width, so the text sorts as the number does, until the year 5188), five of a
 * counter, then `bytes` of entropy. Rows keyed by it are inserted at the end of their
 * index instead of on a random page, so a commit of many dirties few index pages. The
 * counter matters where many ids share an instant: every finding of a pass is raised at
 * the pass's `now` (decision 0033). It never resets, so ids of different instants made
 * in turn keep their order too; it wraps after 36^5 (about 60M) ids, which costs only
 * order, never uniqueness: that rests on the random part alone.
 */
export function timeOrderedId(prefix: string, at: Date, bytes = 12): string {
  const ms = Math.max(0, Math.floor(at.getTime()));
  counter = (counter + 1) % COUNTER_SPAN;
  const time = ms.toString(36).padStart(9, '0');
  return `${prefix}_${time}${counter.toString(36).padStart(5, '0')}${randomBase64Url(bytes)}`;
}

const COUNTER_SPAN = 36 ** 5;
let counter = 0;

export function randomNonce(bytes = 16): string {
  return randomBase64Url(bytes);
}

/**
 * Something that signs with one Ed25519 key without handing the key over: a key ring's
 * active key, for the formats (signed notes, DSSE) that other areas own.
 */
export interface Ed25519Signer {
  /** The raw 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** The 64-byte RFC 8032 signature of `message`. */
  sign(message: Uint8Array): Buffer;
}
