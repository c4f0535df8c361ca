import { readFileSync } from 'node:fs';
import type { Clock } from '../core/clock.js';
import { CountersignError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { ApiTokenPrincipal } from '../identity/api-tokens.js';
import type { OidcConfig, TrustedIssuer } from '../identity/oidc/config.js';
import type { IdentityTokenVerifier } from '../identity/oidc/authenticator.js';
import type { ConsoleOptions, LoginIssuer } from '../http/console/options.js';
import { SessionStore } from '../http/console/sessions.js';
import { defaultConsoleDir } from '../http/console/static.js';
import type { ConfigErrorCode, ConfigFile } from './config.js';

function invalid(message: string, cause?: unknown): CountersignError<ConfigErrorCode> {
  return new CountersignError<ConfigErrorCode>('CONFIG_INVALID', message, {
    ...(cause === undefined ? {} : { cause }),
  });
}

function duration(name: string, text: string | undefined, fallback: string): number {
  try {
    const ms = parseDuration(text ?? fallback);
    if (ms <= 0) throw new Error('must be longer than zero');
    return ms;
  } catch (cause) {
    throw invalid(`console.${name}: ${(cause as Error).message}`, cause);
  }
}

/** The client secret of a human issuer, read at start so a missing one stops the server. */
function clientSecret(issuer: TrustedIssuer, env: NodeJS.ProcessEnv): string | null {
  const from = issuer.clientSecret;
  if (from === null) return null;
  if ('env' in from) {
    const secret = env[from.env];
    if (!secret) {
      throw invalid(`oidc issuer ${issuer.name}: environment variable ${from.env} is not set`);
    }
    return secret;
  }
  try {
    return readFileSync(from.file, 'utf8').trim();
  } catch (cause) {
    throw invalid(`oidc issuer ${issuer.name}: the client secret file cannot be read`, cause);
  }
}

export interface ConsoleWiring {
  readonly file: ConfigFile;
  readonly oidc: OidcConfig;
  readonly verifier: IdentityTokenVerifier;
  readonly clock: Clock;
  readonly env: NodeJS.ProcessEnv;
  /** Dev mode's principals, offered on the sign-in page; null outside dev mode. */
  readonly devPrincipals: readonly ApiTokenPrincipal[] | null;
  /** The server listens on a loopback address only (see `ConsoleOptions.loopback`). */
  readonly loopback: boolean;
}

/** The console's options from the configuration: sessions, sign-in issuers, files. */
export function wireConsole(w: ConsoleWiring): ConsoleOptions {
  const c = w.file.console ?? {};
  const idleMs = duration('sessionIdle', c.sessionIdle, '30m');
  const maxMs = duration('sessionMax', c.sessionMax, '12h');
  if (idleMs > maxMs) throw invalid('console.sessionIdle: longer than console.sessionMax');
  const issuers: LoginIssuer[] = w.oidc.issuers
    .filter((i) => i.kind === 'human')
    .map((issuer) => ({ issuer, clientSecret: clientSecret(issuer, w.env) }));
  return {
    sessions: new SessionStore(w.clock, { idleMs, maxMs }),
    clock: w.clock,
    publicOrigin: c.publicOrigin?.replace(/\/$/, '') ?? null,
    staticDir: c.staticDir ?? defaultConsoleDir(),
    devPrincipals:
      w.devPrincipals?.map((p) => ({ id: p.id, roles: p.roles, groups: p.groups ?? [] })) ?? null,
    issuers,
    verifier: w.verifier,
    loopback: w.loopback,
  };
}
