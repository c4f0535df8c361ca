import type { FastifyRequest } from 'fastify';

/** A compact JWS (warrant, receipt, ID token) or a countersign API token, anywhere in a path. */
const CREDENTIAL = /eyJ[\w-]*\.[\w-]*\.[\w-]*|cs_[\w-]{16,}/g;

/**
 * The request as the access log records it: the method and the path, with the query
 * string dropped and anything shaped like a credential replaced. A client that puts a
 * warrant or a token in a URL must not have it copied into the log.
 */
export function redactedRequest(req: FastifyRequest): Record<string, unknown> {
  const [path = '', query] = req.url.split('?', 2);
  return {
    method: req.method,
    url: path.replace(CREDENTIAL, '[redacted]') + (query === undefined ? '' : '?[redacted]'),
    remoteAddress: req.ip,
  };
}
