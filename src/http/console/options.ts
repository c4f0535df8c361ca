import type { Clock } from '../../core/clock.js';
import type { IdentityTokenVerifier } from '../../identity/oidc/authenticator.js';
import type { TrustedIssuer } from '../../identity/oidc/config.js';
import type { Role } from '../../identity/roles.js';
import type { SessionStore } from './sessions.js';

/** A human issuer the console signs people in at, with its client secret if it has one. */
export interface LoginIssuer {
  readonly issuer: TrustedIssuer;
  readonly clientSecret: string | null;
}

/** A principal offered on the dev sign-in page. */
export interface DevPrincipal {
  readonly id: string;
  readonly roles: readonly Role[];
  readonly groups: readonly string[];
}

/** What the console's backend-for-frontend needs; absent, the app serves the API alone. */
export interface ConsoleOptions {
  readonly sessions: SessionStore;
  readonly clock: Clock;
  /**
   * The origin browsers reach this server at (`https://countersign.example.com`): the
   * redirect URI registered at the issuers, the `Origin` CSRF compares, and whether the
   * cookie is `Secure`. Null: taken from each request's own scheme and `Host`.
   */
  readonly publicOrigin: string | null;
  /** The built console (index.html and assets/), or null when it is not built. */
  readonly staticDir: string | null;
  /** Dev mode: the principals of the sign-in page. Null outside dev mode. */
  readonly devPrincipals: readonly DevPrincipal[] | null;
  readonly issuers: readonly LoginIssuer[];
  /** Verifies the ID tokens of the callback: the same verifier as bearer tokens. */
  readonly verifier: IdentityTokenVerifier;
  /** Timeout of each call to an issuer (discovery, token endpoint). */
  readonly httpTimeoutMs?: number;
  /**
   * The server listens on a loopback address only. Without a `publicOrigin`, a session is
   * then served only to a loopback `Host`: a page whose DNS name was rebound to 127.0.0.1
   * is same-origin with itself, and must not sign in (dev mode needs no credential) nor
   * ride a session. With one, its `Origin` differs from the `publicOrigin`.
   */
  readonly loopback?: boolean;
}
