import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError, isCountersignError, type CoreErrorCode } from '../../core/errors.js';
import { constantTimeEqual } from '../../core/crypto.js';
import type { PrincipalId } from '../../core/ids.js';
import { federatedPrincipal } from '../../identity/oidc/authenticator.js';
import {
  authorizationUrl,
  cachedLoginEndpoints,
  exchangeCode,
  newLoginSecrets,
  type SignInErrorCode,
} from '../../identity/oidc/login.js';
import type { IdentityErrorCode } from '../../identity/principal.js';
import { problem } from '../problem.js';
import {
  assertConsoleCall,
  assertOwnHost,
  clearSessionCookie,
  loginCookie,
  ownOrigin,
  sessionIdOf,
  setSessionCookie,
} from './guard.js';
import type { ConsoleOptions } from './options.js';
import { safeReturnTo } from './return-to.js';
import { sessionView, signInOptions } from './views.js';

const LoginQuery = Type.Object({
  issuer: Type.String({ minLength: 1, maxLength: 64 }),
  returnTo: Type.Optional(Type.String({ maxLength: 4096 })),
  fresh: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0')])),
});
const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  state: Type.Optional(Type.String({ maxLength: 256 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
});
const DevSignInBody = Type.Object(
  { principal: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

/** A fresh sign-in's `auth_time` may precede the login's start by this much clock skew. */
const FRESH_SKEW_SECONDS = 30;

/**
 * The console's sign-in (a backend-for-frontend): the server is the OIDC client, keeps
 * the session, and gives the browser only an opaque HttpOnly cookie. No token ever
 * reaches the page.
 */
export const consoleAuthRoutes: FastifyPluginAsyncTypebox<{ console: ConsoleOptions }> = async (
  app,
  { console: opts },
) => {
  const timeoutMs = opts.httpTimeoutMs ?? 5_000;
  const discoverLoginEndpoints = cachedLoginEndpoints(() => opts.clock.now().getTime());
  const maxAgeSeconds = () => Math.floor(opts.sessions.limits.maxMs / 1000);

  /** Starts a new session (a new id, so a planted cookie never becomes a signed-in one). */
  const signIn = (
    req: FastifyRequest,
    reply: FastifyReply,
    ...args: Parameters<ConsoleOptions['sessions']['create']>
  ) => {
    opts.sessions.destroy(sessionIdOf(req, opts));
    setSessionCookie(req, reply, opts, opts.sessions.create(...args), maxAgeSeconds());
  };

  app.get('/auth/options', { schema: { hide: true } }, () => signInOptions(opts));

  app.get('/auth/session', { schema: { hide: true } }, (req) => {
    const s = opts.sessions.touch(sessionIdOf(req, opts));
    if (!s) {
      throw new CountersignError<IdentityErrorCode>('UNAUTHENTICATED', 'not signed in');
    }
    return sessionView(opts, s);
  });

  app.post('/auth/dev/sign-in', { schema: { hide: true, body: DevSignInBody } }, (req, reply) => {
    const principals = opts.devPrincipals;
    if (principals === null) {
      return reply
        .code(404)
        .type('application/problem+json')
        .send(problem('NOT_FOUND', 'no such route', '/auth/dev/sign-in'));
    }
    assertConsoleCall(req, opts);
    const p = principals.find((d) => d.id === req.body.principal);
    if (!p) {
      throw new CountersignError<CoreErrorCode>('VALIDATION_FAILED', 'no such dev principal');
    }
    const principal = { id: p.id as PrincipalId, roles: p.roles, groups: p.groups };
    signIn(req, reply, { ...principal, via: 'api_token' }, 'dev', opts.clock.now());
    return reply.code(204).send();
  });

  app.get(
    '/auth/login',
    { schema: { hide: true, querystring: LoginQuery } },
    async (req, reply) => {
      assertOwnHost(req, opts);
      const login = opts.issuers.find((i) => i.issuer.name === req.query.issuer);
      if (!login) {
        throw new CountersignError<CoreErrorCode>('VALIDATION_FAILED', 'no such sign-in issuer');
      }
      const endpoints = await discoverLoginEndpoints(login.issuer, timeoutMs);
      const secrets = newLoginSecrets();
      const redirectUri = `${ownOrigin(req, opts)}/auth/callback`;
      const fresh = req.query.fresh === '1';
      // Binds the callback to this browser (no login CSRF): Lax, because the issuer's
      // redirect back is a cross-site navigation on which a Strict cookie is not sent.
      // The cookie carries the pending sign-in itself, sealed (`sealed-login.ts`).
      const cookie = loginCookie(req, opts);
      const sealed = opts.sessions.beginLogin(secrets.state, {
        issuerName: login.issuer.name,
        nonce: secrets.nonce,
        verifier: secrets.verifier,
        redirectUri,
        returnTo: safeReturnTo(req.query.returnTo),
        fresh,
      });
      void reply.setCookie(cookie.name, sealed, {
        httpOnly: true,
        sameSite: 'lax',
        path: cookie.path,
        secure: cookie.secure,
        maxAge: 600,
      });
      const to = authorizationUrl(endpoints.authorization, {
        clientId: login.issuer.audience,
        redirectUri,
        secrets,
        fresh,
      });
      return reply.code(302).header('cache-control', 'no-store').redirect(to.href);
    },
  );

  app.get(
    '/auth/callback',
    { schema: { hide: true, querystring: CallbackQuery } },
    async (req, reply) => {
      try {
        const { code, state, error } = req.query;
        const cookie = loginCookie(req, opts);
        const sealed = req.cookies[cookie.name];
        void reply.clearCookie(cookie.name, { path: cookie.path, secure: cookie.secure });
        const login =
          state !== undefined && sealed !== undefined
            ? opts.sessions.takeLogin(sealed, state)
            : null;
        if (!login || error !== undefined || code === undefined) {
          throw new CountersignError<SignInErrorCode>(
            'SIGN_IN_FAILED',
            login ? 'the issuer refused the sign-in' : 'the sign-in expired or was never started',
          );
        }
        const issuer = opts.issuers.find((i) => i.issuer.name === login.issuerName);
        if (!issuer) throw new Error('a pending login names an issuer no longer configured');
        const endpoints = await discoverLoginEndpoints(issuer.issuer, timeoutMs);
        const idToken = await exchangeCode(
          issuer.issuer,
          endpoints.token,
          {
            code,
            clientId: issuer.issuer.audience,
            clientSecret: issuer.clientSecret,
            redirectUri: login.redirectUri,
            verifier: login.verifier,
          },
          timeoutMs,
        );
        const identity = await opts.verifier.verify(idToken);
        if (identity.issuerName !== issuer.issuer.name || identity.kind !== 'human') {
          throw new CountersignError<SignInErrorCode>(
            'SIGN_IN_FAILED',
            'the ID token is not from the issuer signed in at',
          );
        }
        // OIDC Core §3.1.3.7 step 11: the nonce binds the token to this browser's login.
        const nonce = identity.claims['nonce'];
        if (typeof nonce !== 'string' || !constantTimeEqual(nonce, login.nonce)) {
          throw new CountersignError<SignInErrorCode>(
            'SIGN_IN_FAILED',
            'the ID token does not carry the nonce of this sign-in',
          );
        }
        // A forced sign-in (max_age=0) must come back with a sign-in made after it began.
        const began = Math.floor(login.startedAt / 1000) - FRESH_SKEW_SECONDS;
        if (login.fresh && (identity.authTime === null || identity.authTime < began)) {
          throw new CountersignError<SignInErrorCode>(
            'SIGN_IN_FAILED',
            'the issuer did not sign the person in again',
          );
        }
        const signedInAt = identity.authTime === null ? null : new Date(identity.authTime * 1000);
        signIn(req, reply, federatedPrincipal(identity), 'oidc', signedInAt);
        return reply.code(302).header('cache-control', 'no-store').redirect(login.returnTo);
      } catch (e) {
        // A browser arrives here by navigation: send it to the sign-in page with the code.
        const code = isCountersignError(e) ? e.code : 'INTERNAL';
        req.log.warn({ code, err: { message: (e as Error).message } }, 'console sign-in failed');
        return reply
          .code(302)
          .header('cache-control', 'no-store')
          .redirect(`/sign-in?error=${encodeURIComponent(code)}`);
      }
    },
  );

  app.post('/auth/sign-out', { schema: { hide: true } }, (req, reply) => {
    assertConsoleCall(req, opts);
    opts.sessions.destroy(sessionIdOf(req, opts));
    clearSessionCookie(req, reply, opts);
    return reply.code(204).send();
  });
};
