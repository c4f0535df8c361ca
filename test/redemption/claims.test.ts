import { describe, expect, it } from 'vitest';
import type { DecisionId, NhiId, RequestId, WarrantId } from '../../src/core/ids.js';
import { executorBindingProblem } from '../../src/identity/oidc/binding.js';
import type { ClaimMatcher } from '../../src/core/claim-matcher.js';
import { checkRedemption, type RedemptionInput } from '../../src/redemption/check.js';
import type { WarrantClaims } from '../../src/warrant/warrant.js';
import { recordOf } from '../helpers/warrant-record.js';

const GHA = 'https://token.actions.githubusercontent.com';
const MATCHER: ClaimMatcher = {
  issuer: GHA,
  claims: { repository: 'acme/deploy', environment: 'prod', ref: { pattern: 'refs/heads/*' } },
};
const NBF = 1_770_000_000;

const claims: WarrantClaims = {
  iss: 'countersign',
  jti: 'wrt_1' as WarrantId,
  sub: 'svc:payments' as NhiId,
  iat: NBF,
  nbf: NBF,
  exp: NBF + 3600,
  request_id: `sha256:${'a'.repeat(64)}` as RequestId,
  action: 'grant',
  environment: 'prod',
  scope: [{ resource: 'db/orders', permissions: ['read'] }],
  targets: [],
  executor: { kind: 'claims', matcher: MATCHER },
  max_uses: 1,
  approvals: ['dec_1'] as DecisionId[],
  policy_version: `sha256:${'b'.repeat(64)}`,
};

const job = (over: Record<string, unknown> = {}) => ({
  kind: 'workload' as const,
  issuer: GHA,
  claims: { repository: 'acme/deploy', environment: 'prod', ref: 'refs/heads/main', ...over },
});

const input = (executorIdentity: RedemptionInput['executorIdentity']): RedemptionInput => ({
  claims,
  keyRevoked: false,
  record: recordOf(claims, { uses: 0 }),
  action: { resource: 'db/orders', permission: 'read', environment: 'prod' },
  executor: 'gha:repo:acme/deploy:environment:prod',
  executorIdentity,
  now: new Date((NBF + 60) * 1000),
});

const codeOf = (i: RedemptionInput) => {
  const d = checkRedemption(i);
  return d.kind === 'deny' ? d.code : 'allow';
};

describe('checkRedemption with a claim binding', () => {
  describe('when a workload token satisfies every condition', () => {
    it('allows the redemption', () => {
      expect(codeOf(input(job()))).toBe('allow');
    });
  });

  describe('when the caller is not that workload', () => {
    it.each([
      ['another repository', job({ repository: 'acme/other' })],
      ['another environment', job({ environment: 'staging' })],
      ['a ref outside the pattern', job({ ref: 'refs/tags/v1' })],
      ['a missing claim', job({ environment: undefined })],
      ['another issuer', { ...job(), issuer: 'https://evil.example' }],
      ['a person with the same claims', { ...job(), kind: 'human' as const }],
      ['an API-token caller', null],
    ])('denies %s with EXECUTOR_MISMATCH', (_name, identity) => {
      expect(codeOf(input(identity))).toBe('EXECUTOR_MISMATCH');
    });

    it('names the failing claim but never its value', () => {
      const d = checkRedemption(input(job({ repository: 'acme/other' })));
      expect(d).toMatchObject({ kind: 'deny', reason: expect.stringContaining('repository') });
      expect(JSON.stringify(d)).not.toContain('acme/other');
    });
  });
});

describe('executorBindingProblem', () => {
  const trusted = new Map([[GHA, 'github_actions' as const]]);

  it('accepts a binding that names the repository', () => {
    expect(executorBindingProblem(trusted, MATCHER)).toBeNull();
  });

  it('refuses an issuer not trusted for workloads', () => {
    expect(executorBindingProblem(trusted, { ...MATCHER, issuer: 'https://x.example' })).toMatch(
      /not a trusted workload issuer/,
    );
  });

  it('refuses a GitHub binding that would admit every repository', () => {
    expect(
      executorBindingProblem(trusted, { issuer: GHA, claims: { environment: 'prod' } }),
    ).toMatch(/repository/);
  });

  it('refuses a Kubernetes binding by service account name alone, which every namespace has', () => {
    const k8s = new Map([['https://kubernetes.default.svc', 'kubernetes' as const]]);
    const byName: ClaimMatcher = {
      issuer: 'https://kubernetes.default.svc',
      claims: { 'kubernetes.io.serviceaccount.name': 'default' },
    };
    expect(executorBindingProblem(k8s, byName)).toMatch(/must constrain one of/);
  });

  describe('when the identifying claim is a glob', () => {
    const K8S = 'https://kubernetes.default.svc';
    const SPIFFE = 'https://spire.example';
    const issuers = new Map([
      [GHA, 'github_actions' as const],
      [K8S, 'kubernetes' as const],
      [SPIFFE, 'spiffe' as const],
    ]);
    const binding = (issuer: string, name: string, pattern: string): ClaimMatcher => ({
      issuer,
      claims: { [name]: { pattern }, environment: 'prod' },
    });

    it.each([
      [GHA, 'repository', 'acme/*'],
      [GHA, 'repository', 'acme/deploy-*'],
      [GHA, 'repository', 'acme/deploy'],
      [K8S, 'sub', 'system:serviceaccount:shop:*'],
      [SPIFFE, 'sub', 'spiffe://example.org/ns/prod/sa/*'],
      [SPIFFE, 'sub', 'spiffe://example.org/ns/prod/**'],
    ])('accepts %s %s ~= %s, which names the owner', (issuer, name, pattern) => {
      expect(executorBindingProblem(issuers, binding(issuer, name, pattern))).toBeNull();
    });

    it.each([
      [GHA, 'repository', '**'],
      [GHA, 'repository', '*/*'],
      [GHA, 'repository', 'acme*/x'],
      [GHA, 'repository_id', '*'],
      [K8S, 'sub', 'system:serviceaccount:*:deployer'],
      [K8S, 'kubernetes.io.namespace', 'shop-*'],
      [SPIFFE, 'sub', 'spiffe://example.org/*'],
      [SPIFFE, 'sub', 'spiffe://**'],
      [SPIFFE, 'sub', 'spiffe://example.org/ns/**'],
      [SPIFFE, 'sub', 'spiffe://example.org/ns/*/sa/deployer'],
    ])('refuses %s %s ~= %s, which would admit other owners', (issuer, name, pattern) => {
      expect(executorBindingProblem(issuers, binding(issuer, name, pattern))).toMatch(
        /must constrain one of: .*glob naming its owner/,
      );
    });
  });
});
