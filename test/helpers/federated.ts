import { createHash } from 'node:crypto';
import { federationConfig, startIssuers, type Issuers } from './federation.js';
import type { TestIssuer } from './oidc-issuer.js';
import { TestServer, type StartOptions } from './server.js';

export { AUDIENCE, humanClaims } from './federation.js';

/** How a proof names a token: the `sha256:` digest of its text (or of its jti). */
export const tokenDigest = (text: string): string =>
  `sha256:${createHash('sha256').update(text).digest('hex')}`;

/**
 * A real countersign server in dev mode that trusts four loopback OIDC issuers (the
 * `oidc` section of its config): `corp` for people (issuer name `corp-sso`; group
 * `sre` → approver, `platform` → requester, `auditors` → auditor, `admins` → admin),
 * `github` for GitHub-Actions-style jobs (`gha`, executor), `k8s` and `spiffe`.
 */
export class FederatedServer {
  private constructor(
    readonly server: TestServer,
    private readonly issuers: Issuers,
  ) {}

  get corp(): TestIssuer {
    return this.issuers.corp;
  }

  get github(): TestIssuer {
    return this.issuers.github;
  }

  static async start(opts: StartOptions = {}): Promise<FederatedServer> {
    const issuers = await startIssuers();
    const oidc = federationConfig(issuers);
    const server = await TestServer.start({ ...opts, config: { ...opts.config, oidc } });
    return new FederatedServer(server, issuers);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.issuers.close();
  }
}
