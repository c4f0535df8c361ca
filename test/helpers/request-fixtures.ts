import { ManualClock } from '../../src/core/clock.js';
import { normaliseScope } from '../../src/core/scope.js';
import type { NhiId, PrincipalId } from '../../src/core/ids.js';
import type { Nhi } from '../../src/nhi/nhi.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { selectRule } from '../../src/policy/match.js';
import type { Policy } from '../../src/policy/policy.js';
import { buildRequestBody, type BuildContext, type RequestInput } from '../../src/request/build.js';
import type { RequestBody } from '../../src/request/request.js';

export const HOUR = 3_600_000;
export const T0 = '2026-03-01T12:00:00.000Z';

/**
 * Two rules: a strict one for prod databases, then a loose one for staging. `dev` is
 * declared, but no rule covers it.
 */
export const POLICY_YAML = `version: 1
environments: [prod, staging, dev]
rules:
  - name: prod-db
    match:
      environments: [prod]
      nhiKinds: [service_account]
      actions: [grant]
      resources: ['db/*']
    approvals: { required: 2, groups: [dba, sre] }
    excludeOwner: true
    requesterMayExecute: false
    maxDuration: 2h
    maxLeadTime: 1d
    maxUses: 5
    pendingExpiry: 1h
  - name: staging
    match:
      environments: [staging]
    approvals: { required: 1, groups: [sre] }
    maxDuration: 1d
    maxUses: 100
`;

export const policy: Policy = parsePolicyText(POLICY_YAML, 'yaml');

export const nhi: Nhi = {
  id: 'svc:payments-api' as NhiId,
  kind: 'service_account',
  owner: 'olga',
  description: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'admin',
};

export const principal = (id: string): PrincipalId => id as PrincipalId;

/** Overrides for a request input; an explicit `undefined` removes the field. */
export type InputOverrides = { [K in keyof RequestInput]?: RequestInput[K] | undefined };

export const prodInput = (over: InputOverrides = {}): RequestInput => {
  const input: Record<string, unknown> = {
    subject: nhi.id,
    action: 'grant',
    scope: [{ resource: 'db/orders', permissions: ['write', 'read'] }],
    environment: 'prod',
    executor: { kind: 'principal', principal: principal('deploy-eu') },
    durationMs: HOUR,
    reason: 'hotfix for INC-42',
    ...over,
  };
  for (const [k, v] of Object.entries(input)) if (v === undefined) delete input[k];
  return input as unknown as RequestInput;
};

/** A build context with the whole policy: `buildBody` selects the rule, as the service does. */
export type TestContext = Omit<BuildContext, 'rule' | 'policyVersion'> & {
  readonly policy: Policy;
};

export const context = (
  clock = new ManualClock(T0),
  over: Partial<TestContext> = {},
): TestContext => ({
  requester: principal('alice'),
  nhi,
  policy,
  now: clock.now(),
  nonce: 'nonce-1',
  ...over,
});

/** Selects the rule and builds the body, in the order `createRequest` does. */
export function buildBody(input: RequestInput, ctx: TestContext): RequestBody {
  const { policy: p, ...rest } = ctx;
  const scope = normaliseScope(input.scope);
  const rule = selectRule(p, {
    environment: input.environment,
    nhiKind: ctx.nhi.kind,
    action: input.action,
    scope,
  });
  return buildRequestBody(input, { ...rest, rule, policyVersion: p.version });
}

/** A prod request body built at T0 (2 approvals from dba or sre, owner excluded). */
export const prodBody = (over: InputOverrides = {}): RequestBody =>
  buildBody(prodInput(over), context());
