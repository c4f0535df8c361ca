import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError, isCountersignError, type CoreErrorCode } from '../../core/errors.js';
import { constantTimeEqual } from '../../core/crypto.js';
import type { PrincipalId } from '../../core/ids.js';
import { federatedPrincipal } from '../../identity/oidc/authenticator.js';
import {
  assertResponseIssuer,
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
  /** RFC 9207: the issuer that sent this authorization response. */
  iss: Type.Optional(Type.String({ maxLength: 2048 })),
});
const CallbackParams = Type.Object({ issuer: Type.String({ maxLength: 64 }) });
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

  // Every answer here speaks of a sign-in (who is signed in, with which roles, until when;
  // where to go next), so no browser or shared cache may keep one. These routes are public
  // and read the cookie themselves, so the no-store that `http/auth.ts` gives an
  // authenticated caller's answers never reaches them; this hook covers them, errors too.
  app.addHook('onSend', async (_req, reply) => {
    void reply.header('cache-control', 'no-store');
  });

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
      // RFC 9700 §4.4.2: a redirect URI per issuer, so a code an issuer sends back says
      // which issuer it is for, whatever the issuer the sign-in began at claims.
      const redirectUri = `${ownOrigin(req, opts)}/auth/callback/${encodeURIComponent(login.issuer.name)}`;
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
      return reply.code(302).redirect(to.href);
    },
  );

  /** Where a failed callback sends the browser, which arrived by navigation: the sign-in page. */
  const signInFailed = (req: FastifyRequest, reply: FastifyReply, e: unknown) => {
    const code = isCountersignError(e) ? e.code : 'INTERNAL';
    req.log.warn({ code, err: { message: (e as Error).message } }, 'console sign-in failed');
    return reply.code(302).redirect(`/sign-in?error=${encodeURIComponent(code)}`);
  };

  // Kept only to say why it fails: no issuer is sent here any more, so whoever arrives is a
  // sign-in begun before the upgrade (its sealed login died with the old process) or an
  // issuer replaying the old shared redirect URI. It reads nothing, code and cookie alike;
  // the person lands on the sign-in page rather than a bare 404, and the log says why.
  app.get('/auth/callback', { schema: { hide: true } }, (req, reply) =>
    signInFailed(
      req,
      reply,
      new CountersignError<SignInErrorCode>(
        'SIGN_IN_FAILED',
        'the redirect URI is now per issuer: <origin>/auth/callback/<issuer name>',
      ),
    ),
  );

  app.get(
    '/auth/callback/:issuer',
    { schema: { hide: true, params: CallbackParams, querystring: CallbackQuery } },
    async (req, reply) => {
      try {
        const { code, state, error, iss } = req.query;
        const cookie = loginCookie(req, opts);
        const sealed = req.cookies[cookie.name];
        void reply.clearCookie(cookie.name, { path: cookie.path, secure: cookie.secure });
        const login =
          state !== undefined && sealed !== undefined
            ? opts.sessions.takeLogin(sealed, state)
            : null;
        if (!login) {
          throw new CountersignError<SignInErrorCode>(
            'SIGN_IN_FAILED',
            'the sign-in expired or was never started',
          );
        }
        // A mix-up (RFC 9700 §4.4): another issuer's code, sent to its own callback, must
        // never reach the token endpoint of the issuer this sign-in began at.
        if (req.params.issuer !== login.issuerName) {
          throw new CountersignError<SignInErrorCode>(
            'SIGN_IN_FAILED',
            'the callback is for another issuer than the sign-in began at',
          );
        }
        const issuer = opts.issuers.find((i) => i.issuer.name === login.issuerName);
        if (!issuer) throw new Error('a pending login names an issuer no longer configured');
        const endpoints = await discoverLoginEndpoints(issuer.issuer, timeoutMs);
        assertResponseIssuer(issuer.issuer, endpoints, iss);
        if (error !== undefined || code === undefined) {
          throw new CountersignError<SignInErrorCode>(
            'SIGN_IN_FAILED',
            'the issuer refused the sign-in',
          );
        }
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
        return reply.code(302).redirect(login.returnTo);
      } catch (e) {
        return signInFailed(req, reply, e);
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
