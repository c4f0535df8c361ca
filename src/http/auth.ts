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
 * Authenticates every request before its body is parsed, then enforces the route's
 * role list, which {@link applyRouteRoles} takes from the one table in `authz.ts`.
 * Everything a route does not grant is denied; a route without a role list is denied
 * to everyone, so forgetting one fails closed.
 */
export function installAuth(app: FastifyInstance, authenticator: Authenticator): void {
  applyRouteRoles(app);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const roles = req.routeOptions.config.roles;
    // Unknown routes fall through to the 404 handler, which reveals nothing.
    if (roles === 'public' || req.routeOptions.url === undefined) return;
    const principal = await authenticator.authenticate(req.headers.authorization);
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
}

/** The authenticated principal of a route that is not public. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal)
    throw new CountersignError<IdentityErrorCode>('UNAUTHENTICATED', 'not authenticated');
  return req.principal;
}
