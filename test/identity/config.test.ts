import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseOidcConfig, type OidcConfig } from '../../src/identity/oidc/config.js';
import { rolesFor } from '../../src/identity/oidc/identity.js';
import { expectCode } from '../helpers/expect-code.js';

const EXAMPLE = `
issuers:
  - name: corp-sso
    issuer: https://sso.example.com/realms/corp
    kind: human
    audience: countersign
    algorithms: [RS256, ES256]
    claims: { subject: sub, groups: groups }
    roles: { sre: [approver], platform: [requester], auditors: [auditor], admins: [admin] }
    maxTokenAge: 1h
  - name: gha
    issuer: https://token.actions.githubusercontent.com
    kind: github_actions
    audience: countersign
    algorithms: [RS256]
    workloadRoles: [executor]
    boundClaims: { repository_owner: acme }
approvalAuthMaxAge: 5m
`;

const base = () => parseYaml(EXAMPLE) as { issuers: Record<string, unknown>[] };
function withIssuer(patch: Record<string, unknown>, index = 0): unknown {
  const doc = base();
  doc.issuers[index] = { ...doc.issuers[index], ...patch };
  return doc;
}
const refused = (doc: unknown, needle: string) => {
  const err = expectCode(() => parseOidcConfig(doc, '/oidc'), 'CONFIG_INVALID');
  expect(err.message).toContain(needle);
};

describe('parseOidcConfig', () => {
  describe('when the configuration is valid', () => {
    it('applies defaults and converts durations to seconds', () => {
      const cfg: OidcConfig = parseOidcConfig(base());
      expect(cfg.approvalAuthMaxAgeSeconds).toBe(300);
      const [corp, gha] = cfg.issuers;
      expect(corp).toMatchObject({
        name: 'corp-sso',
        jwksUri: null,
        typ: null,
        maxTokenAgeSeconds: 3600,
      });
      expect(gha).toMatchObject({
        claims: { subject: 'sub', groups: 'groups' },
        workloadRoles: ['executor'],
      });
      expect(parseOidcConfig({ issuers: [] }).approvalAuthMaxAgeSeconds).toBe(600);
    });

    it('maps groups to roles in canonical order and ignores Object member names', () => {
      const [corp] = parseOidcConfig(base()).issuers;
      expect(rolesFor(corp!, ['admins', 'sre', 'sre'])).toEqual(['approver', 'admin']);
      expect(rolesFor(corp!, ['__proto__', 'constructor', 'hasOwnProperty'])).toEqual([]);
    });
  });

  describe('when an algorithm allow-list is unsafe', () => {
    it('refuses none in any spelling, naming the path', () => {
      refused(withIssuer({ algorithms: ['RS256', 'none'] }), '/oidc/issuers/0/algorithms/1');
      refused(withIssuer({ algorithms: ['NONE'] }), 'never allowed');
    });

    it('refuses every HMAC algorithm', () => {
      for (const alg of ['HS256', 'HS384', 'HS512', 'hs256']) {
        refused(withIssuer({ algorithms: [alg] }), 'shared-secret');
      }
    });

    it('refuses unknown algorithms and an empty list', () => {
      refused(withIssuer({ algorithms: ['RS1'] }), '/oidc/issuers/0/algorithms/0');
      refused(withIssuer({ algorithms: [] }), '/oidc/issuers/0/algorithms');
    });
  });

  describe('when a field is wrong', () => {
    it('names the path of the problem', () => {
      refused(withIssuer({ kind: 'robot' }), '/oidc/issuers/0/kind');
      refused(withIssuer({ audience: undefined }), '/oidc/issuers/0');
      refused(withIssuer({ surprise: true }), '/oidc/issuers/0/surprise');
      refused(withIssuer({ maxTokenAge: '1 hour' }), '/oidc/issuers/0/maxTokenAge');
      refused(withIssuer({ name: 'has:colon' }), '/oidc/issuers/0/name');
      refused({ ...base(), approvalAuthMaxAge: 'soon' }, '/oidc/approvalAuthMaxAge');
    });

    it('refuses issuers and key sets that are not https (or loopback http)', () => {
      refused(
        withIssuer({ issuer: 'http://sso.example.com' }),
        '/oidc/issuers/0/issuer: must use https',
      );
      refused(withIssuer({ issuer: 'https://sso.example.com/?tenant=1' }), 'must not have a query');
      refused(withIssuer({ issuer: 'https://u:p@sso.example.com' }), 'credentials');
      refused(withIssuer({ jwksUri: 'ftp://x/jwks' }), '/oidc/issuers/0/jwksUri');
      expect(() =>
        parseOidcConfig(withIssuer({ issuer: 'http://127.0.0.1:8080/x' })),
      ).not.toThrow();
    });

    it('refuses duplicate names and duplicate issuers', () => {
      refused(withIssuer({ name: 'corp-sso' }, 1), '/oidc/issuers/1/name: duplicate');
      refused(
        withIssuer({ issuer: 'https://sso.example.com/realms/corp' }, 1),
        '/oidc/issuers/1/issuer: duplicate',
      );
    });

    it('keeps human and workload role settings apart', () => {
      refused(withIssuer({ workloadRoles: ['executor'] }), '/oidc/issuers/0/workloadRoles');
      refused(withIssuer({ roles: { ci: ['executor'] } }, 1), '/oidc/issuers/1/roles');
      refused(withIssuer({ claims: { groups: 'teams' } }, 1), '/oidc/issuers/1/claims/groups');
      refused(withIssuer({ workloadRoles: ['approver'] }, 1), '/oidc/issuers/1/workloadRoles/0');
      refused(withIssuer({ workloadRoles: ['admin'] }, 1), 'may not hold the admin role');
      refused(withIssuer({ roles: { sre: ['superuser'] } }), '/oidc/issuers/0/roles/sre/0');
    });
  });

  describe('when a shared platform issues workload tokens', () => {
    it('refuses GitHub Actions without a claim that names its repositories', () => {
      refused(withIssuer({ boundClaims: undefined }, 1), '/oidc/issuers/1/boundClaims');
      refused(withIssuer({ boundClaims: { environment: 'prod' } }, 1), 'repository_owner');
    });

    it('keeps each bound claim as a list of the values it may take', () => {
      const doc = withIssuer({ boundClaims: { repository: ['acme/a', 'acme/b'] } }, 1);
      const gha = parseOidcConfig(doc).issuers[1];
      expect([...(gha?.boundClaims ?? [])]).toEqual([['repository', ['acme/a', 'acme/b']]]);
      expect([...(parseOidcConfig(base()).issuers[1]?.boundClaims ?? [])]).toEqual([
        ['repository_owner', ['acme']],
      ]);
    });
  });

  describe('when people sign in at more than one issuer', () => {
    const partner = {
      name: 'partner-sso',
      issuer: 'https://sso.partner.example',
      kind: 'human',
      audience: 'countersign',
      algorithms: ['ES256'],
      roles: { reviewers: ['approver'] },
    };
    const twoPeopleIssuers = (corp: object, other: object) => {
      const doc = base();
      doc.issuers[0] = { ...doc.issuers[0], ...corp };
      doc.issuers.push({ ...partner, ...other });
      return doc;
    };

    it('refuses an issuer that does not list the groups it may assert', () => {
      refused(twoPeopleIssuers({}, {}), '/oidc/issuers/0/trustedGroups: with more than one');
      refused(
        twoPeopleIssuers({ trustedGroups: ['sre', 'platform', 'auditors', 'admins'] }, {}),
        '/oidc/issuers/2/trustedGroups',
      );
    });

    it('accepts both once each lists its groups, and keeps them per issuer', () => {
      const cfg = parseOidcConfig(
        twoPeopleIssuers(
          { trustedGroups: ['sre', 'platform', 'auditors', 'admins', 'team-payments'] },
          { trustedGroups: ['reviewers'] },
        ),
      );
      expect([...(cfg.issuers[0]?.trustedGroups ?? [])]).toContain('team-payments');
      expect([...(cfg.issuers[2]?.trustedGroups ?? [])]).toEqual(['reviewers']);
    });

    it('leaves the one human issuer trusted for every group it names', () => {
      expect(parseOidcConfig(base()).issuers[0]?.trustedGroups).toBeNull();
    });

    it('refuses a role mapped from a group the issuer is not trusted for', () => {
      refused(withIssuer({ trustedGroups: ['sre'] }), '/oidc/issuers/0/roles/platform');
    });

    it('refuses trusted groups on a workload issuer', () => {
      refused(withIssuer({ trustedGroups: ['ci'] }, 1), '/oidc/issuers/1/trustedGroups');
    });
  });
});
