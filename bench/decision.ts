import type { PrincipalId, RequestId, WarrantId } from '../src/core/ids.js';
import { checkRedemption } from '../src/redemption/check.js';
import type { RedemptionAction } from '../src/redemption/redemption.js';
import type { WarrantClaims, WarrantRecord } from '../src/warrant/warrant.js';
import { cedarDecisionsPerSecond } from './cedar.js';
import { now, progress, round, seconds, type Figure } from './util.js';

/** The pure redemption decision in-process (no HTTP, no store): checks per second. */
export function decisionBenchmarks(): Figure[] {
  const scope = Array.from({ length: 10 }, (_, i) => ({
    resource: i % 2 === 0 ? `db/schema${i}/*` : `db/schema${i}/table${i}`,
    permissions: ['read', 'write'],
  }));
  const claims: WarrantClaims = {
    iss: 'countersign',
    jti: 'wrt_bench' as WarrantId,
    sub: 'agent:bench' as WarrantClaims['sub'],
    iat: 0,
    nbf: 0,
    exp: 4_000_000_000,
    request_id: `sha256:${'0'.repeat(64)}` as RequestId,
    action: 'grant',
    environment: 'prod',
    scope,
    targets: ['eu', 'us'],
    executor: { kind: 'principal', principal: 'deploy-eu' as PrincipalId },
    max_uses: 1_000_000,
    approvals: [],
    policy_version: `sha256:${'1'.repeat(64)}`,
  };
  const record = {
    id: claims.jti,
    requestId: claims.request_id,
    state: 'active',
    uses: 0,
    maxUses: 1_000_000,
    claims,
  } as unknown as WarrantRecord;
  const actions: RedemptionAction[] = Array.from({ length: 64 }, (_, i) => ({
    resource: i % 3 === 0 ? `db/schema${(i % 5) * 2}/orders` : `db/schema${i % 10}/table${i % 10}`,
    permission: i % 4 === 0 ? 'delete' : 'read',
    environment: 'prod',
    target: i % 2 === 0 ? 'eu' : 'us',
  }));
  const input = {
    claims,
    keyRevoked: false,
    record,
    executor: 'deploy-eu',
    executorIdentity: null,
    now: new Date(1_700_000_000_000),
  };
  progress('decision: the pure redemption check in-process');
  let allowed = 0;
  const n = 1_000_000;
  for (let i = 0; i < 50_000; i++)
    checkRedemption({ ...input, action: actions[i % 64] as RedemptionAction });
  const start = now();
  for (let i = 0; i < n; i++) {
    if (checkRedemption({ ...input, action: actions[i % 64] as RedemptionAction }).kind === 'allow')
      allowed += 1;
  }
  const s = seconds(start);
  const ours = n / s;
  const expected = actions.map((a) => checkRedemption({ ...input, action: a }).kind === 'allow');
  progress('decision: the same scope question asked of Cedar (preparsed policies)');
  const cedar = cedarDecisionsPerSecond(
    scope,
    'prod',
    ['eu', 'us'],
    'deploy-eu',
    actions,
    expected,
    50_000,
  );
  return [
    {
      key: 'redeem_decision_ops_per_s',
      label: `redemption decision in-process, 10-entry scope with wildcards (${round((allowed / n) * 100, 0)}% allowed)`,
      value: round(ours, 0),
      unit: '/s',
    },
    {
      key: 'cedar_decision_ops_per_s',
      label: 'the same question asked of Cedar (cedar-wasm, preparsed policy set)',
      value: round(cedar, 0),
      unit: '/s',
    },
    {
      key: 'scope_check_ratio_vs_cedar',
      label: 'countersign decision ÷ Cedar decision, same run',
      value: round(ours / cedar, 1),
      unit: '×',
      goal: { target: 10, higherIsBetter: true, text: '≥ 10×' },
    },
  ];
}
