import type { FastifyRequest } from 'fastify';

/** A compact JWS (warrant, receipt, ID token) or a countersign API token, anywhere in text. */
const HAS_CREDENTIAL = /eyJ[\w-]*\.[\w-]*\.[\w-]*|cs_[\w-]{16,}/;

/**
 * The request as the access log records it: the method and the path, with the query
 * string dropped and anything shaped like a credential replaced. A client that puts a
 * warrant or a token in a URL must not have it copied into the log.
 */
export function redactedRequest(req: FastifyRequest): Record<string, unknown> {
  const query = req.url.includes('?');
  return {
    method: req.method,
    url: redactedPath(req.url) + (query ? '?[redacted]' : ''),
    remoteAddress: req.ip,
  };
}

/**
 * `text` with anything shaped like a credential replaced, for details and logged
 * messages: a word whose decoded text holds one is replaced whole, since a message may
 * quote a path parameter still percent-encoded once (`cs%5F…` sent as `cs%255F…`).
 */
export const redactedText = (text: string): string =>
  text.replace(/\S+/g, (word) => (HAS_CREDENTIAL.test(decoded(word)) ? '[redacted]' : word));

/**
 * A request's path as an answer may name it (a problem's `instance`): without its query,
 * and with anything shaped like a credential replaced, as in the log. A segment whose
 * decoded text holds a credential is replaced whole: `%2E` for a dot, or `%65%79%4a` for
 * `eyJ`, must not carry a warrant past the pattern.
 */
export function redactedPath(url: string): string {
  const path = url.split('?', 1)[0] ?? '';
  return path
    .split('/')
    .map((segment) => (HAS_CREDENTIAL.test(decoded(segment)) ? '[redacted]' : segment))
    .join('/');
}

/**
 * `text` with every valid `%XX` decoded, again while that changes: a double encoding, or a
 * stray `%` that would make `decodeURIComponent` give up, hides nothing. Bytes are read as
 * single characters, enough to find an ASCII credential.
 */
function decoded(text: string): string {
  let out = text;
  for (;;) {
    // Each round shortens the text, so the loop ends.
    const next = out.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
      String.fromCharCode(parseInt(hex, 16)),
    );
    if (next === out) return out;
    out = next;
  }
}
