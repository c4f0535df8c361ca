import type { FastifyRequest } from 'fastify';

/** A compact JWS (warrant, receipt, ID token) or a countersign API token, anywhere in a path. */
const CREDENTIAL = /eyJ[\w-]*\.[\w-]*\.[\w-]*|cs_[\w-]{16,}/g;

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
 * A request's path as an answer may name it (a problem's `instance`): without its query,
 * and with anything shaped like a credential replaced, as in the log.
 */
export function redactedPath(url: string): string {
  return (url.split('?', 1)[0] ?? '').replace(CREDENTIAL, '[redacted]');
}
