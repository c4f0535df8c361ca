import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../../core/errors.js';
import { isLoopbackHost } from '../../core/loopback.js';
import type { Principal } from '../../identity/principal.js';
import type { ConsoleOptions } from './options.js';

export type ConsoleErrorCode = 'CSRF_REFUSED' | 'CONSOLE_NOT_BUILT';

/** The header the console sends on every call; a cross-site form or image cannot. */
export const CONSOLE_HEADER = 'x-countersign-console';

/** The origin this server is reached at, as the browser sees it. */
export function ownOrigin(req: FastifyRequest, opts: Pick<ConsoleOptions, 'publicOrigin'>): string {
  return opts.publicOrigin ?? `${req.protocol}://${req.host}`;
}

/**
 * Without a `publicOrigin`, refuses a request whose `Host` a page could have rebound to this
 * server (see `ConsoleOptions.loopback`): on a loopback listener any name but a loopback
 * one; in dev mode on another listener (a container's `0.0.0.0`) any DNS name but
 * `localhost`, since there a sign-in needs no credential and a rebound page would be
 * admin. An address literal cannot be rebound. Every route that begins or rides a
 * session checks it. Behind a `publicOrigin` the proxy decides what `Host` says, and
 * {@link assertConsoleCall} compares the browser's `Origin` with it instead.
 */
export function assertOwnHost(
  req: FastifyRequest,
  opts: Pick<ConsoleOptions, 'publicOrigin' | 'loopback' | 'devPrincipals'>,
): void {
  if (opts.publicOrigin !== null || isLoopbackHost(req.hostname)) return;
  const literal = isIP(req.hostname.replace(/^\[(.*)\]$/, '$1')) !== 0;
  if (opts.loopback !== true && (opts.devPrincipals === null || literal)) return;
  throw new CountersignError<ConsoleErrorCode>(
    'CSRF_REFUSED',
    'the Host header names no origin this server is reached at (set console.publicOrigin)',
  );
}

/** Over TLS the cookie is `Secure` and `__Host-` prefixed (RFC 6265bis §4.1.3.2). */
function secure(req: FastifyRequest, opts: Pick<ConsoleOptions, 'publicOrigin'>): boolean {
  return ownOrigin(req, opts).startsWith('https:');
}

export function cookieName(req: FastifyRequest, opts: Pick<ConsoleOptions, 'publicOrigin'>) {
  return secure(req, opts) ? '__Host-cs_session' : 'cs_session';
}

/**
 * The cookie that binds a sign-in's callback to the browser that began it. Over TLS it is
 * `__Host-` too (so on the whole path): a sibling subdomain could otherwise plant one and
 * replay a callback of its own, signing the browser in as someone else. On plain http its
 * path, `/auth/callback`, also covers every issuer's `/auth/callback/<name>` (RFC 6265
 * §5.1.4), so a callback at the wrong issuer's path finds the login and is refused as a
 * mix-up rather than as a sign-in never begun.
 */
export function loginCookie(
  req: FastifyRequest,
  opts: Pick<ConsoleOptions, 'publicOrigin'>,
): { readonly name: string; readonly path: string; readonly secure: boolean } {
  return secure(req, opts)
    ? { name: '__Host-cs_login', path: '/', secure: true }
    : { name: 'cs_login', path: '/auth/callback', secure: false };
}

/** The session id the request's cookie carries, if any. */
export function sessionIdOf(
  req: FastifyRequest,
  opts: Pick<ConsoleOptions, 'publicOrigin'>,
): string | undefined {
  return req.cookies[cookieName(req, opts)];
}

export function setSessionCookie(
  req: FastifyRequest,
  reply: FastifyReply,
  opts: Pick<ConsoleOptions, 'publicOrigin'>,
  id: string,
  maxAgeSeconds: number,
): void {
  void reply.setCookie(cookieName(req, opts), id, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: secure(req, opts),
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(
  req: FastifyRequest,
  reply: FastifyReply,
  opts: Pick<ConsoleOptions, 'publicOrigin'>,
): void {
  void reply.clearCookie(cookieName(req, opts), {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: secure(req, opts),
  });
}

/**
 * Refuses a state-changing call riding on the cookie unless it comes from the console
 * itself: same-origin by `Sec-Fetch-Site` (or, from a browser that sends none, by
 * `Origin`), and carrying {@link CONSOLE_HEADER}, which no cross-site form, link or
 * image can set and which a cross-origin fetch could only send after a CORS preflight
 * this server never grants. SameSite=Strict alone would leave same-site subdomains in.
 */
export function assertConsoleCall(
  req: FastifyRequest,
  opts: Pick<ConsoleOptions, 'publicOrigin' | 'loopback' | 'devPrincipals'>,
): void {
  assertOwnHost(req, opts);
  assertSameOriginCall(req, opts);
}

/** {@link assertConsoleCall} once the `Host` is known to be this server's. */
function assertSameOriginCall(
  req: FastifyRequest,
  opts: Pick<ConsoleOptions, 'publicOrigin'>,
): void {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  // A page whose name was rebound to this server is same-origin with itself: behind a
  // publicOrigin, the Origin it sends, when it sends one, must still be that one.
  const sameOrigin =
    (site !== undefined ? site === 'same-origin' : origin === ownOrigin(req, opts)) &&
    (origin === undefined || opts.publicOrigin === null || origin === opts.publicOrigin);
  if (!sameOrigin || req.headers[CONSOLE_HEADER] !== '1') {
    throw new CountersignError<ConsoleErrorCode>(
      'CSRF_REFUSED',
      `a call with the session cookie must come from the console itself (same origin, with ${CONSOLE_HEADER}: 1)`,
    );
  }
}

/**
 * Authenticates a request by its session cookie, for the whole API. Reads (GET, HEAD)
 * need only the cookie; anything else must also pass {@link assertConsoleCall}.
 */
export function sessionAuthenticator(opts: ConsoleOptions) {
  return (req: FastifyRequest): Principal | null => {
    const id = sessionIdOf(req, opts);
    if (id === undefined) return null;
    assertOwnHost(req, opts);
    const s = opts.sessions.touch(id);
    if (!s) return null;
    if (req.method !== 'GET' && req.method !== 'HEAD') assertSameOriginCall(req, opts);
    return s.principal;
  };
}
