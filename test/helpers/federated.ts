import { federationConfig } from '../identity/federation.js';
import { TestIssuer } from './oidc-issuer.js';
import { TestServer, type StartOptions } from './server.js';

export { AUDIENCE, humanClaims } from '../identity/federation.js';

/**
 * A real countersign server in dev mode that trusts four loopback OIDC issuers (the
 * `oidc` section of its config): `corp` for people (issuer name `corp-sso`; group
 * `sre` → approver, `platform` → requester, `auditors` → auditor, `admins` → admin),
 * `github` for GitHub-Actions-style jobs (`gha`, executor), `k8s` and `spiffe`.
 */
export class FederatedServer {
  private constructor(
    readonly server: TestServer,
    readonly corp: TestIssuer,
    readonly github: TestIssuer,
    private readonly others: readonly TestIssuer[],
  ) {}

  static async start(opts: StartOptions = {}): Promise<FederatedServer> {
    const [corp, github, k8s, spiffe] = await Promise.all([
      TestIssuer.start({ path: '/realms/corp', kidPrefix: 'corp' }),
      TestIssuer.start({ kidPrefix: 'gha' }),
      TestIssuer.start({ kidPrefix: 'k8s' }),
      TestIssuer.start({ kidPrefix: 'spire' }),
    ]);
    const oidc = federationConfig({ corp, github, k8s, spiffe });
    const server = await TestServer.start({ ...opts, config: { ...opts.config, oidc } });
    return new FederatedServer(server, corp, github, [k8s, spiffe]);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await Promise.all([this.corp, this.github, ...this.others].map((i) => i.close()));
  }
}
