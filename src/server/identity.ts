import type { Clock } from '../core/clock.js';
import { CountersignError } from '../core/errors.js';
import { ApiTokenAuthenticator, type ApiTokenPrincipal } from '../identity/api-tokens.js';
import { FederatedAuthenticator } from '../identity/oidc/authenticator.js';
import { parseOidcConfig, type OidcConfig } from '../identity/oidc/config.js';
import {
  MemoryReplayGuard,
  SharedReplayGuard,
  type SpentTokenRecords,
} from '../identity/oidc/replay.js';
import { TokenVerifier } from '../identity/oidc/verifier.js';
import type { Authenticator } from '../identity/principal.js';
import type { IdentitySettings } from '../service/context.js';
import type { Store } from '../service/ports/store.js';
import type { ConfigErrorCode } from './config.js';

export interface ServerIdentity {
  readonly oidc: OidcConfig;
  readonly authenticator: Authenticator;
  readonly settings: IdentitySettings;
  /** The verifier of every OIDC token, bearer or the console's ID tokens. */
  readonly verifier: TokenVerifier;
  /** Deletes expired spent-token records; run it periodically. */
  pruneSpentTokens(): Promise<number>;
}

/**
 * Spent tokens kept in the store, each step in a transaction of its own: on SQLite it
 * joins the group commit instead of costing an fsync of its own, and on PostgreSQL a
 * connection lost before COMMIT is retried rather than surfaced as a failed redemption.
 */
function spentTokensIn(store: Store): SpentTokenRecords {
  return {
    spendToken: (issuer, jti, expiresAt, now) =>
      store.transaction((tx) => tx.replay.spend(issuer, jti, expiresAt, now)),
    forgetSpentTokens: (before) => store.transaction((tx) => tx.replay.forget(before)),
  };
}

/**
 * Wires authentication from the configuration: API tokens for bootstrap and dev, and
 * the trusted OIDC issuers of the optional `oidc` section (none when it is absent).
 *
 * A federated principal is named `<issuerName>:<subject>`, so an API-token principal
 * whose id starts with `<issuerName>:` could pass for a federated one (and count as
 * the same approver, or match a principal binding); such configurations are refused.
 *
 * With a `store`, spent workload tokens are remembered there, so every node sharing the
 * database refuses a replay; without one (unit tests), in this process's memory.
 */
export function wireIdentity(
  oidcSection: unknown,
  principals: readonly ApiTokenPrincipal[],
  clock: Clock,
  store?: Store,
): ServerIdentity {
  const oidc = parseOidcConfig(oidcSection ?? { issuers: [] }, '/oidc');
  for (const p of principals) {
    const issuer = oidc.issuers.find((i) => p.id.startsWith(`${i.name}:`));
    if (issuer) {
      throw new CountersignError<ConfigErrorCode>(
        'CONFIG_INVALID',
        `principal ${p.id}: ids starting with "${issuer.name}:" are reserved for tokens of that issuer`,
      );
    }
  }
  const verifier = new TokenVerifier(oidc.issuers, { clock });
  const workloadIssuers = new Map(
    oidc.issuers.flatMap((i) => (i.kind === 'human' ? [] : [[i.issuer, i.kind] as const])),
  );
  const shared = store ? new SharedReplayGuard(spentTokensIn(store), clock) : null;
  return {
    oidc,
    verifier,
    authenticator: new FederatedAuthenticator(verifier, new ApiTokenAuthenticator(principals)),
    // The memory guard sweeps expired entries itself when it fills up.
    pruneSpentTokens: () => shared?.prune() ?? Promise.resolve(0),
    settings: {
      replayGuard: shared ?? new MemoryReplayGuard({ clock }),
      approvalAuthMaxAgeSeconds: oidc.approvalAuthMaxAgeSeconds,
      workloadIssuers,
    },
  };
}
