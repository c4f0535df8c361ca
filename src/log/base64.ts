/**
 * Strict standard base64 (RFC 4648 §4), as C2SP signed-note and tlog-checkpoint
 * require. `Buffer.from(s, 'base64')` silently skips bad characters, so decoding
 * is checked by re-encoding.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes canonical, padded standard base64, or returns `undefined` for anything
 * else (URL-safe alphabet, missing padding, whitespace, non-zero padding bits).
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
