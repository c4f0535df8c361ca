import type { Clock } from '../core/clock.js';
import { CountersignError } from '../core/errors.js';
import { ApiTokenAuthenticator, type ApiTokenPrincipal } from '../identity/api-tokens.js';
import { FederatedAuthenticator } from '../identity/oidc/authenticator.js';
import { parseOidcConfig, type OidcConfig } from '../identity/oidc/config.js';
import { MemoryReplayGuard } from '../identity/oidc/replay.js';
import { TokenVerifier } from '../identity/oidc/verifier.js';
import type { Authenticator } from '../identity/principal.js';
import type { IdentitySettings } from '../service/context.js';
import type { ConfigErrorCode } from './config.js';

export interface ServerIdentity {
  readonly oidc: OidcConfig;
  readonly authenticator: Authenticator;
  readonly settings: IdentitySettings;
}

/**
 * Wires authentication from the configuration: API tokens for bootstrap and dev, and
 * the trusted OIDC issuers of the optional `oidc` section (none when it is absent).
 *
 * A federated principal is named `<issuerName>:<subject>`, so an API-token principal
 * whose id starts with `<issuerName>:` could pass for a federated one (and count as
 * the same approver, or match a principal binding); such configurations are refused.
 */
export function wireIdentity(
  oidcSection: unknown,
  principals: readonly ApiTokenPrincipal[],
  clock: Clock,
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
  return {
    oidc,
    authenticator: new FederatedAuthenticator(verifier, new ApiTokenAuthenticator(principals)),
    settings: {
      replayGuard: new MemoryReplayGuard({ clock }),
      approvalAuthMaxAgeSeconds: oidc.approvalAuthMaxAgeSeconds,
      workloadIssuers,
    },
  };
}
