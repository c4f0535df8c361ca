/**
 * What the sign-in routes answer, in one place free of Fastify, so the console names
 * these types (type-only) instead of keeping a second copy.
 */
import type { ConsoleOptions } from './options.js';
import type { ConsoleSession } from './sessions.js';

/** `GET /auth/session`: who the cookie signs in, never a token. */
export type SessionView = ReturnType<typeof sessionView>;

/** `GET /auth/options`: how this server signs people in. */
export type SignInOptions = ReturnType<typeof signInOptions>;

export function signInOptions(opts: ConsoleOptions) {
  return {
    dev: opts.devPrincipals !== null,
    ...(opts.devPrincipals === null
      ? {}
      : { devPrincipals: opts.devPrincipals.map((p) => ({ id: p.id, roles: p.roles })) }),
    issuers: opts.issuers.map((i) => ({ name: i.issuer.name, issuer: i.issuer.issuer })),
  };
}

export function sessionView(opts: ConsoleOptions, s: ConsoleSession) {
  const p = s.principal;
  return {
    principal: { id: p.id, roles: p.roles, groups: p.groups, via: p.via },
    signedInAt: s.signedInAt?.toISOString() ?? null,
    expiresAt: opts.sessions.expiresAt(s).toISOString(),
    mode: s.mode,
  };
}
