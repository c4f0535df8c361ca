import { describe, expect, it } from 'vitest';
import { createRequest } from '../helpers/chain.js';
import { startIssuers, type Issuers } from '../helpers/federation.js';
import { AUDIENCE, humanClaims } from '../helpers/federated.js';
import type { TestIssuer } from '../helpers/oidc-issuer.js';
import { serveDuringSuite, TestServer } from '../helpers/server.js';

/**
 * Three issuers of people, each trusted for its own groups (decision 0041): `corp-sso`
 * for the company's, `partner-sso` only for `partner-reviewers`, and `contractor-sso`
 * only for `sre`. The dev policy's approvers are in `sre`; the test NHIs belong to
 * `team-data`.
 */
class ThreeIssuerServer {
  private constructor(
    readonly server: TestServer,
    private readonly issuers: Issuers<'corp' | 'github' | 'k8s'>,
  ) {}

  get corp(): TestIssuer {
    return this.issuers.corp;
  }
  get partner(): TestIssuer {
    return this.issuers.github;
  }
  get contractor(): TestIssuer {
    return this.issuers.k8s;
  }

  static async start(): Promise<ThreeIssuerServer> {
    const issuers = await startIssuers(['corp', 'github', 'k8s'] as const);
    const person = (name: string, i: TestIssuer, groups: Record<string, string[]>) => ({
      name,
      issuer: i.issuer,
      kind: 'human',
      audience: AUDIENCE,
      algorithms: ['RS256'],
      roles: groups,
      trustedGroups: Object.keys(groups),
    });
    const oidc = {
      issuers: [
        person('corp-sso', issuers.corp, { sre: ['approver'], 'team-data': ['requester'] }),
        person('partner-sso', issuers.github, { 'partner-reviewers': ['approver', 'requester'] }),
        person('contractor-sso', issuers.k8s, { sre: ['approver'] }),
      ],
    };
    return new ThreeIssuerServer(await TestServer.start({ config: { oidc } }), issuers);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.issuers.close();
  }
}

let f: ThreeIssuerServer;
let s: TestServer;
serveDuringSuite(ThreeIssuerServer, (started) => {
  f = started;
  s = started.server;
});

const tokenOf = (i: TestIssuer, sub: string, groups: string[]) =>
  i.sign(humanClaims(new Date(), { sub, groups }));

const approve = async (id: string, bearer: string) =>
  s.cli(['approve', id, '--reason', 'reviewed'], { bearer });

describe('groups claimed at an issuer that is not trusted for them', () => {
  it('do not make a partner an approver, and the request stays pending', async () => {
    const id = await createRequest(s, { env: 'staging' });
    const out = await approve(id, await tokenOf(f.partner, 'pat', ['partner-reviewers', 'sre']));
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('NOT_IN_APPROVER_GROUP');
    const r = await s.http('GET', `/v1/requests/${id}`, { as: 'audra' });
    expect(r.body).toMatchObject({ state: 'pending', decisions: [] });
  });

  it('do not let a partner register an NHI for an owner group it only claims', async () => {
    const bearer = await tokenOf(f.partner, 'pat', ['partner-reviewers', 'team-data']);
    const body = { id: 'svc:partner-made', kind: 'service_account', owner: 'team-data' };
    const r = await s.http('POST', '/v1/nhis', { bearer, body });
    expect(r.status).toBe(403);
    expect(r.body.code).toBe('FORBIDDEN');
    const own = await tokenOf(f.corp, 'olga', ['team-data']);
    const ok = await s.http('POST', '/v1/nhis', { bearer: own, body });
    expect(ok.status, ok.text).toBe(201);
  });

  it('still keep a claimed owner from approving where the rule excludes the owner', async () => {
    const id = await createRequest(s, { env: 'prod', executor: 'deploy-eu' });
    const claimsOwner = await tokenOf(f.contractor, 'casey', ['sre', 'team-data']);
    const refused = await approve(id, claimsOwner);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('SEPARATION_OF_DUTIES');
    const ok = await approve(id, await tokenOf(f.contractor, 'cody', ['sre']));
    expect(ok.code, ok.stderr).toBe(0);
    const r = await s.http('GET', `/v1/requests/${id}`, { as: 'audra' });
    expect(r.body.decisions.map((d: { approver: string }) => d.approver)).toEqual([
      'contractor-sso:cody',
    ]);
  });
});

describe('groups an issuer is trusted for', () => {
  it('count for its people as for any other approver', async () => {
    const id = await createRequest(s, { env: 'staging' });
    const out = await approve(id, await tokenOf(f.contractor, 'cleo', ['sre']));
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/approved: warrant wrt_\S+ issued/);
  });
});
