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

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes canonical unpadded base64url (RFC 4648 §5, as JOSE uses it), or returns
 * `undefined`: re-encoding must give back the input, so no two texts decode alike.
 */
export function decodeBase64UrlStrict(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}
