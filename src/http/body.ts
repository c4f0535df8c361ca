import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CountersignError, type CoreErrorCode } from '../core/errors.js';
import { parseStrictJsonBytes } from '../core/json.js';
import type { HttpErrorCode } from './problem.js';

/** The bytes of each parsed body, kept with the request so a refusal can name them by digest. */
const rawBodies = new WeakMap<FastifyRequest, Buffer>();

/**
 * Request bodies are `application/json` only, sent as they are (no content coding),
 * in well-formed UTF-8, and strict JSON (`parseStrictJson`). Every refusal is a
 * problem with a stable code: `UNSUPPORTED_CONTENT_ENCODING` (415), `INVALID_UTF8`,
 * or the parser's own codes (400).
 */
export function installJsonBodies(app: FastifyInstance): void {
  // After authentication (onRequest) and before the body is read.
  app.addHook('preParsing', async (req, reply) => {
    const coding = req.headers['content-encoding'];
    // An unknown route stays a 404, whatever it was sent with.
    if (req.routeOptions.url === undefined) return;
    if (coding === undefined || /^\s*(identity)?\s*$/i.test(coding)) return;
    // RFC 9110 §15.5.16: say which coding would have been accepted.
    void reply.header('accept-encoding', 'identity');
    throw new CountersignError<HttpErrorCode>(
      'UNSUPPORTED_CONTENT_ENCODING',
      'request bodies must be sent without a content coding (Content-Encoding: identity)',
    );
  });
  // A path or query parameter with U+0000 (`%00`) is refused as a body's string is: the
  // store could not keep it, and PostgreSQL would fail the statement instead (a 500).
  app.addHook('preValidation', async (req) => {
    if (holdsNul(req.params) || holdsNul(req.query)) {
      throw new CountersignError<CoreErrorCode>(
        'NUL_CHARACTER',
        'a path or query parameter holds U+0000',
      );
    }
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const bytes = body as Buffer;
    // No route: the 404 or 405 handler answers, whatever the body holds.
    if (req.routeOptions.url === undefined) {
      done(null, undefined);
      return;
    }
    rawBodies.set(req, bytes);
    try {
      done(null, parseStrictJsonBytes(bytes));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

/** The body bytes as received, or null when none were read. */
export function rawBodyOf(req: FastifyRequest): Buffer | null {
  return rawBodies.get(req) ?? null;
}

/** Whether a parsed path or query (strings, or arrays of them) holds U+0000 anywhere. */
function holdsNul(values: unknown): boolean {
  if (typeof values !== 'object' || values === null) return false;
  return Object.entries(values).some(
    ([k, v]) =>
      k.includes('\0') ||
      (typeof v === 'string' && v.includes('\0')) ||
      (Array.isArray(v) && v.some((x) => typeof x === 'string' && x.includes('\0'))),
  );
}
