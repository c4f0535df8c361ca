import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CountersignError } from '../core/errors.js';
import type { Authenticator, IdentityErrorCode, Principal } from '../identity/principal.js';
import type { Role } from '../identity/roles.js';
import { applyRouteRoles } from './authz.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Roles allowed to call the route; 'public' needs no credentials. */
    roles?: readonly Role[] | 'public';
  }
}

/**
 * The principal of a console session cookie, or null; it refuses (`CSRF_REFUSED`) a
 * state-changing call that the cookie would authenticate from anywhere but the console.
 */
export type SessionAuthenticator = (req: FastifyRequest) => Principal | null;

/**
 * Authenticates every request before its body is parsed, then enforces the route's
 * role list, which {@link applyRouteRoles} takes from the one table in `authz.ts`.
 * Everything a route does not grant is denied; a route without a role list is denied
 * to everyone, so forgetting one fails closed.
 */
export function installAuth(
  app: FastifyInstance,
  authenticator: Authenticator,
  session?: SessionAuthenticator,
): void {
  applyRouteRoles(app);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const roles = req.routeOptions.config.roles;
    // Unknown routes fall through to the 404 handler, which reveals nothing.
    if (roles === 'public' || req.routeOptions.url === undefined) return;
    // A bearer token, when sent, is the credential: the cookie is never consulted.
    const principal =
      req.headers.authorization !== undefined || !session
        ? await authenticator.authenticate(req.headers.authorization)
        : session(req);
    if (!principal) {
      throw new CountersignError<IdentityErrorCode>(
        'UNAUTHENTICATED',
        'a valid bearer token is required',
      );
    }
    if (!roles?.some((r) => principal.roles.includes(r))) {
      throw new CountersignError<IdentityErrorCode>(
        'FORBIDDEN',
        `this operation needs one of the roles: ${(roles ?? []).join(', ') || 'none'}`,
      );
    }
    req.principal = principal;
  });
  // What a caller was let see (a warrant's token, evidence, a request's body) is theirs:
  // no shared or browser cache keeps it, whatever credential brought it.
  app.addHook('onSend', async (req, reply) => {
    if (req.principal !== null && !reply.hasHeader('cache-control')) {
      void reply.header('cache-control', 'no-store');
    }
  });
}

/** The authenticated principal of a route that is not public. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal)
    throw new CountersignError<IdentityErrorCode>('UNAUTHENTICATED', 'not authenticated');
  return req.principal;
}
