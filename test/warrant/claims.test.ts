import { randomBytes } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  newDecisionId,
  newWarrantId,
  type DecisionId,
  type NhiId,
  type PrincipalId,
  type RequestId,
  type WarrantId,
} from '../../src/core/ids.js';
import type { ExecutorBinding, RequestAction } from '../../src/core/vocabulary.js';
import { REQUEST_ACTIONS } from '../../src/core/vocabulary.js';
import { CreateRequestBody } from '../../src/http/schemas.js';
import { generateSigningKey, KeyRing } from '../../src/keys/keyring.js';
import type { Nhi } from '../../src/nhi/nhi.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { buildRequestBody, requestIdOf, type RequestInput } from '../../src/request/build.js';
import { windowAt } from '../../src/request/window.js';
import {
  WARRANT_TYP,
  warrantClaims,
  WarrantClaimsSchema,
  type WarrantClaims,
} from '../../src/warrant/warrant.js';

const T0 = new Date('2026-03-01T12:00:00.000Z');

const policy = parsePolicyText(
  `version: 1
environments: [prod]
rules:
  - name: open
    approvals: { required: 1, groups: [sre] }
    maxDuration: 7d
    maxLeadTime: 7d
    maxUses: 1000000
  - name: no-self-execution
    approvals: { required: 2, groups: [sre] }
    requesterMayExecute: false
    maxDuration: 7d
    maxLeadTime: 7d
    maxUses: 1000000
`,
  'yaml',
);

/** The parts of a request the API accepts, as arbitraries; each obeys the request body schema. */
const name = fc.stringMatching(/^[A-Za-z0-9._:@-]{1,24}$/);
const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._:@=+-]{1,16}$/).filter((s) => s !== '.' && s !== '..'),
  fc.constant('*'),
);
const resource = fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
const permission = fc.stringMatching(/^[A-Za-z0-9._:-]{1,16}$/);
const scope = fc.array(
  fc.record({ resource, permissions: fc.array(permission, { minLength: 1, maxLength: 5 }) }),
  { minLength: 1, maxLength: 5 },
);
const condition = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.record({ pattern: fc.string({ maxLength: 40 }) }),
);
const httpExecutor = fc.oneof(
  fc.record({ principal: name }),
  fc.record({
    issuer: fc.webUrl(),
    claims: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), condition, {
      minKeys: 1,
      maxKeys: 4,
    }),
  }),
);
const nhiId = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}:[A-Za-z0-9._@/-]{1,40}$/);
const HOUR = 3_600_000;
const window = fc.oneof(
  fc.record({ durationMs: fc.integer({ min: 1, max: 7 * 24 * HOUR }) }),
  fc
    .record({
      lead: fc.integer({ min: 0, max: 24 * HOUR }),
      span: fc.integer({ min: 1, max: HOUR }),
    })
    .map(({ lead, span }) => ({
      notBefore: new Date(T0.getTime() + lead).toISOString(),
      notAfter: new Date(T0.getTime() + lead + span).toISOString(),
    })),
);
const acceptedRequest = fc.record({
  subject: nhiId,
  action: fc.constantFrom(...REQUEST_ACTIONS),
  scope,
  environment: name,
  targets: fc.array(name, { maxLength: 6 }),
  executor: httpExecutor,
  maxUses: fc.integer({ min: 1, max: 1_000_000 }),
  window,
  requester: name,
  rule: fc.constantFrom(...policy.rules),
  approvals: fc.integer({ min: 1, max: 4 }),
  issuedAfterMs: fc.integer({ min: 0, max: 2 * HOUR }),
});

type AcceptedRequest = typeof acceptedRequest extends fc.Arbitrary<infer T> ? T : never;

/** What `createRequest` turns the HTTP executor into. */
const binding = (e: { principal: string } | { issuer: string; claims: object }): ExecutorBinding =>
  'principal' in e
    ? { kind: 'principal', principal: e.principal as PrincipalId }
    : { kind: 'claims', matcher: e as Extract<ExecutorBinding, { kind: 'claims' }>['matcher'] };

/**
 * Builds the warrant a request the API accepts would be issued, or null when the service
 * would refuse the request before any warrant (separation of duties, a window check).
 */
function issue(r: AcceptedRequest): WarrantClaims | null {
  const { window: w, rule, requester, issuedAfterMs, approvals, ...fields } = r;
  // The body as sent: a relative window travels as a duration text, which the route parses.
  const sent = { ...fields, ...('durationMs' in w ? { duration: '1h' } : w), reason: 'test' };
  if (!Value.Check(CreateRequestBody, sent)) {
    throw new Error('the arbitrary produced a body the API refuses');
  }
  const nhi: Nhi = {
    id: r.subject as NhiId,
    kind: 'service_account',
    owner: 'olga',
    description: null,
    createdAt: T0.toISOString(),
    createdBy: 'admin',
  };
  const input: RequestInput = {
    subject: r.subject,
    action: r.action,
    scope: r.scope,
    environment: r.environment,
    targets: r.targets,
    executor: binding(r.executor),
    ...w,
    maxUses: r.maxUses,
    reason: 'test',
  };
  let body;
  try {
    body = buildRequestBody(input, {
      requester: requester as PrincipalId,
      nhi,
      rule,
      policyVersion: policy.version,
      now: T0,
      nonce: 'n',
    });
  } catch {
    return null;
  }
  const now = new Date(T0.getTime() + issuedAfterMs);
  return warrantClaims({
    issuer: 'https://countersign.example',
    id: newWarrantId(),
    requestId: requestIdOf(body),
    body,
    window: windowAt(body, now),
    approvals: Array.from({ length: approvals }, newDecisionId),
    now,
  });
}

const valid = (): WarrantClaims => ({
  iss: 'countersign',
  jti: 'wrt_1' as WarrantId,
  sub: 'svc:payments' as NhiId,
  iat: 1_770_000_000,
  nbf: 1_770_000_000,
  exp: 1_770_003_600,
  request_id: `sha256:${'a'.repeat(64)}` as RequestId,
  action: 'grant',
  environment: 'prod',
  scope: [{ resource: 'db/orders', permissions: ['read'] }],
  targets: [],
  executor: { kind: 'principal', principal: 'deploy-eu' as PrincipalId },
  max_uses: 1,
  approvals: ['dec_1' as DecisionId],
  policy_version: `sha256:${'b'.repeat(64)}`,
});

let ring: KeyRing;
beforeAll(async () => {
  const kek = randomBytes(32);
  ring = KeyRing.load([await generateSigningKey(kek, T0)], kek);
});

describe('WarrantClaimsSchema', () => {
  describe('when a warrant is built from any request the API accepts', () => {
    it('satisfies the schema, and reads back from its token exactly as it was signed', async () => {
      let issued = 0;
      await fc.assert(
        fc.asyncProperty(acceptedRequest, async (r) => {
          const claims = issue(r);
          fc.pre(claims !== null);
          issued++;
          expect(Value.Errors(WarrantClaimsSchema, claims).First()).toBeUndefined();
          const token = await ring.signJws(claims, WARRANT_TYP);
          const read = await ring.verifyClaims(token, WARRANT_TYP, WarrantClaimsSchema);
          expect(read?.claims).toEqual(claims);
        }),
        { numRuns: 150 },
      );
      // The property would hold vacuously if the service refused every generated request.
      expect(issued).toBeGreaterThan(100);
    });

    it('carries excluded_executor only when the rule forbids the requester to execute', () => {
      fc.assert(
        fc.property(acceptedRequest, (r) => {
          const claims = issue(r);
          fc.pre(claims !== null);
          expect('excluded_executor' in claims).toBe(!r.rule.requesterMayExecute);
        }),
      );
    });
  });

  describe('when a payload holds what the type forbids', () => {
    const refused: [string, (c: Record<string, unknown>) => void][] = [
      ['an action outside the request actions', (c) => (c.action = 'delete')],
      ['a request id that is not a sha256 digest', (c) => (c.request_id = 'sha256:abc')],
      ['a policy version that is not a sha256 digest', (c) => (c.policy_version = 'v1')],
      ['a subject that is not an NHI id', (c) => (c.sub = 'payments')],
      ['an executor of an unknown kind', (c) => (c.executor = { kind: 'group', group: 'sre' })],
      ['a principal binding without a principal', (c) => (c.executor = { kind: 'principal' })],
      [
        'a claim binding that constrains no claim',
        (c) => (c.executor = { kind: 'claims', matcher: { issuer: 'https://i', claims: {} } }),
      ],
      ['an empty scope', (c) => (c.scope = [])],
      [
        'a scope entry without permissions',
        (c) => (c.scope = [{ resource: 'db', permissions: [] }]),
      ],
      [
        'a scope entry with a member it does not define',
        (c) => (c.scope = [{ resource: 'db', permissions: ['read'], admin: true }]),
      ],
      ['an environment outside the name syntax', (c) => (c.environment = 'prod eu')],
      ['no uses', (c) => (c.max_uses = 0)],
      ['a fractional time', (c) => (c.exp = 1.5)],
      ['an empty excluded executor', (c) => (c.excluded_executor = '')],
      ['a member the schema does not define', (c) => (c.admin = true)],
      ['no jti', (c) => delete c.jti],
    ];
    it.each(refused)('refuses %s', (_, change) => {
      const claims: Record<string, unknown> = structuredClone(valid());
      change(claims);
      expect(Value.Check(WarrantClaimsSchema, claims)).toBe(false);
    });

    it('accepts the unchanged claims, so each refusal above is the change alone', () => {
      expect(Value.Check(WarrantClaimsSchema, valid())).toBe(true);
    });
  });

  describe('when the type is derived', () => {
    it('keeps the branded ids and the closed unions of the claims', () => {
      expectTypeOf<WarrantClaims['jti']>().toEqualTypeOf<WarrantId>();
      expectTypeOf<WarrantClaims['sub']>().toEqualTypeOf<NhiId>();
      expectTypeOf<WarrantClaims['request_id']>().toEqualTypeOf<RequestId>();
      expectTypeOf<WarrantClaims['action']>().toEqualTypeOf<RequestAction>();
      expectTypeOf<WarrantClaims['approvals']>().toEqualTypeOf<readonly DecisionId[]>();
      expectTypeOf<WarrantClaims['policy_version']>().toEqualTypeOf<`sha256:${string}`>();
      expectTypeOf<WarrantClaims['executor']>().toEqualTypeOf<ExecutorBinding>();
      expectTypeOf<Static<typeof WarrantClaimsSchema>>().toExtend<WarrantClaims>();
    });
  });
});

describe('warrantClaims', () => {
  describe('when the approved window falls between whole seconds', () => {
    const nhi: Nhi = {
      id: 'svc:payments' as NhiId,
      kind: 'service_account',
      owner: 'olga',
      description: null,
      createdAt: T0.toISOString(),
      createdBy: 'admin',
    };
    const [rule] = policy.rules;
    const body = buildRequestBody(
      {
        subject: nhi.id,
        action: 'grant',
        scope: [{ resource: 'db/orders', permissions: ['read'] }],
        environment: 'prod',
        executor: { kind: 'principal', principal: 'deploy-eu' as PrincipalId },
        notBefore: '2026-03-01T12:00:05.200Z',
        notAfter: '2026-03-01T13:00:00.470Z',
        reason: 'test',
      },
      {
        requester: 'alice' as PrincipalId,
        nhi,
        rule: rule!,
        policyVersion: policy.version,
        now: T0,
        nonce: 'n',
      },
    );
    const claims = warrantClaims({
      issuer: 'countersign',
      id: newWarrantId(),
      requestId: requestIdOf(body),
      body,
      window: windowAt(body, T0),
      approvals: [newDecisionId()],
      now: T0,
    });

    it('rounds the signed window inward: nbf up, exp down, never wider than approved', () => {
      expect(claims.nbf).toBe(Date.parse('2026-03-01T12:00:06.000Z') / 1000);
      expect(claims.exp).toBe(Date.parse('2026-03-01T13:00:00.000Z') / 1000);
    });
  });
});
