import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epochSeconds } from '../../src/core/clock.js';
import type { DecisionId, NhiId, RequestId, WarrantId } from '../../src/core/ids.js';
import type { Scope } from '../../src/core/scope.js';
import { checkRedemption, type RedemptionInput } from '../../src/redemption/check.js';
import {
  REDEMPTION_DENIAL_CODES,
  type RedemptionAction,
  type RedemptionDenialCode,
} from '../../src/redemption/redemption.js';
import type { WarrantClaims, WarrantRecord } from '../../src/warrant/warrant.js';
import { recordOf } from '../helpers/warrant-record.js';
import { HOUR, principal, T0 } from '../helpers/request-fixtures.js';
import * as model from '../helpers/scope-model.js';

/**
 * The codes the pure check decides, in its order: a malformed body is refused at the edge,
 * and a connector's failure comes after the check.
 */
type CheckedCode = Exclude<RedemptionDenialCode, 'REDEMPTION_MALFORMED' | 'CONNECTOR_FAILED'>;
const CHECKED_CODES = REDEMPTION_DENIAL_CODES.filter(
  (c): c is CheckedCode => c !== 'REDEMPTION_MALFORMED' && c !== 'CONNECTOR_FAILED',
);

const REQUEST_ID = `sha256:${'a'.repeat(64)}` as RequestId;
const NBF = epochSeconds(new Date(T0));
const EXP = NBF + HOUR / 1000;

const baseClaims = (over: Partial<WarrantClaims> = {}): WarrantClaims => ({
  iss: 'https://countersign.test',
  jti: 'wrt_1' as WarrantId,
  sub: 'svc:payments-api' as NhiId,
  iat: NBF,
  nbf: NBF,
  exp: EXP,
  request_id: REQUEST_ID,
  action: 'grant',
  environment: 'prod',
  scope: [
    { resource: 'db/orders', permissions: ['read', 'write'] },
    { resource: 'db/invoices', permissions: ['read'] },
  ],
  targets: ['eu-1', 'eu-2'],
  executor: { kind: 'principal', principal: principal('deploy-eu') },
  max_uses: 3,
  approvals: ['dec_1', 'dec_2'] as DecisionId[],
  policy_version: `sha256:${'b'.repeat(64)}`,
  ...over,
});

const ACTION: RedemptionAction = {
  resource: 'db/orders',
  permission: 'write',
  environment: 'prod',
  target: 'eu-1',
};

/** The pieces of a redemption that each guarantee looks at, all valid by default. */
interface Spec {
  claims: WarrantClaims;
  sigValid: boolean;
  keyRevoked: boolean;
  record: Partial<WarrantRecord> | null;
  action: RedemptionAction;
  executor: string;
  now: number;
  /** Whether the warrant approves the tool call `orders-db/query` with arguments {@link PINNED}. */
  toolBound: boolean;
  /** The tool call the redemption presents, if any. */
  call: { name: string; digest: `sha256:${string}` } | undefined;
}

const PINNED = `sha256:${'d'.repeat(64)}` as const;
const OTHER_ARGUMENTS = `sha256:${'e'.repeat(64)}` as const;

const validSpec = (): Spec => ({
  claims: baseClaims(),
  sigValid: true,
  keyRevoked: false,
  record: {},
  action: { ...ACTION },
  executor: 'deploy-eu',
  now: NBF * 1000 + 10 * 60_000,
  toolBound: false,
  call: undefined,
});

const inputOf = (s: Spec): RedemptionInput => ({
  claims: !s.sigValid
    ? null
    : s.toolBound
      ? { ...s.claims, tool: { server: 'orders-db', name: 'query', argumentsDigest: PINNED } }
      : s.claims,
  keyRevoked: s.keyRevoked,
  record: s.record ? recordOf(baseClaims(), s.record) : null,
  action: s.call
    ? {
        ...s.action,
        tool: {
          agent: s.claims.sub,
          server: 'orders-db',
          name: s.call.name,
          argumentsDigest: s.call.digest,
        },
      }
    : s.action,
  executor: s.executor,
  executorIdentity: null,
  now: new Date(s.now),
});

const check = (s: Spec) => checkRedemption(inputOf(s));
const codeOf = (s: Spec): string => {
  const d = check(s);
  return d.kind === 'deny' ? d.code : 'allow';
};

/** One breaker per code; each breaks exactly its own guarantee and composes with the others. */
const BREAKERS: Record<CheckedCode, (s: Spec) => void> = {
  SIGNATURE_INVALID: (s) => {
    s.sigValid = false;
  },
  KEY_REVOKED: (s) => {
    s.keyRevoked = true;
  },
  WARRANT_UNKNOWN: (s) => {
    s.record = { ...s.record, requestId: `sha256:${'c'.repeat(64)}` as RequestId };
  },
  WARRANT_REVOKED: (s) => {
    s.record = { ...s.record, state: 'revoked' };
  },
  WARRANT_NOT_YET_VALID: (s) => {
    s.claims = { ...s.claims, nbf: Math.floor(s.now / 1000) + 1 };
  },
  WARRANT_EXPIRED: (s) => {
    s.claims = { ...s.claims, exp: Math.floor(s.now / 1000) };
  },
  EXECUTOR_MISMATCH: (s) => {
    s.executor = 'deploy-us';
  },
  ENVIRONMENT_MISMATCH: (s) => {
    s.action = { ...s.action, environment: 'staging' };
  },
  SCOPE_EXCEEDED: (s) => {
    s.action = { ...s.action, permission: 'admin' };
  },
  // These two commute: the tool's name is checked before the arguments.
  TOOL_MISMATCH: (s) => {
    s.call = { digest: s.call?.digest ?? PINNED, name: 'drop_table' };
  },
  ARGUMENTS_MISMATCH: (s) => {
    s.toolBound = true;
    s.call = { name: s.call?.name ?? 'query', digest: OTHER_ARGUMENTS };
  },
  TARGET_UNKNOWN: (s) => {
    s.action = { ...s.action, target: 'us-1' };
  },
  WARRANT_EXHAUSTED: (s) => {
    s.record = { ...s.record, uses: 3 };
  },
};

const broken = (...codes: CheckedCode[]): Spec => {
  const s = validSpec();
  for (const c of codes) BREAKERS[c](s);
  return s;
};

describe('checkRedemption', () => {
  describe('when every guarantee holds', () => {
    it('allows the redemption', () => {
      expect(check(validSpec())).toEqual({ kind: 'allow' });
    });
  });

  describe('when exactly one guarantee is broken', () => {
    it.each(CHECKED_CODES)('denies with %s', (code) => {
      const d = check(broken(code));
      expect(d).toMatchObject({ kind: 'deny', code });
      expect(d.kind === 'deny' && d.reason.length > 0).toBe(true);
    });

    it('denies a missing server record with WARRANT_UNKNOWN', () => {
      expect(codeOf({ ...validSpec(), record: null })).toBe('WARRANT_UNKNOWN');
    });
  });

  describe('when two guarantees are broken', () => {
    it('reports a revoked and expired warrant as WARRANT_REVOKED', () => {
      expect(codeOf(broken('WARRANT_EXPIRED', 'WARRANT_REVOKED'))).toBe('WARRANT_REVOKED');
    });

    it('reports a wrong executor out of scope as EXECUTOR_MISMATCH', () => {
      expect(codeOf(broken('SCOPE_EXCEEDED', 'EXECUTOR_MISMATCH'))).toBe('EXECUTOR_MISMATCH');
    });

    it('reports the earlier code in the documented order for every pair', () => {
      const codes = CHECKED_CODES;
      for (let i = 0; i < codes.length; i++) {
        for (let j = i + 1; j < codes.length; j++) {
          expect(codeOf(broken(codes[j]!, codes[i]!)), `${codes[i]} + ${codes[j]}`).toBe(codes[i]);
        }
      }
    });
  });

  describe('when any set of guarantees is broken', () => {
    it('reports the first broken guarantee in the documented order', () => {
      fc.assert(
        fc.property(fc.shuffledSubarray([...CHECKED_CODES], { minLength: 1 }), (codes) => {
          const first = CHECKED_CODES.find((c) => codes.includes(c));
          expect(codeOf(broken(...codes))).toBe(first);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('when the clock is at the window edges', () => {
    it.each([
      ['one millisecond before nbf', NBF * 1000 - 1, 'WARRANT_NOT_YET_VALID'],
      ['exactly at nbf', NBF * 1000, 'allow'],
      ['one millisecond before exp', EXP * 1000 - 1, 'allow'],
      ['exactly at exp', EXP * 1000, 'WARRANT_EXPIRED'],
      ['long after exp', EXP * 1000 + HOUR, 'WARRANT_EXPIRED'],
    ])('gives %s: %s', (_, now, expected) => {
      expect(codeOf({ ...validSpec(), now })).toBe(expected);
    });
  });

  describe('when the exact approved window ends inside a whole second', () => {
    // The signed exp is a whole second; the approved notAfter may fall 470 ms before it.
    const exactEnd = EXP * 1000 - 470;
    const spec = (now: number): Spec => ({
      ...validSpec(),
      record: { notAfter: new Date(exactEnd).toISOString() },
      now,
    });

    it('allows one millisecond before the exact notAfter', () => {
      expect(codeOf(spec(exactEnd - 1))).toBe('allow');
    });

    it('refuses at notAfter + 1 ms, though the signed exp is still ahead', () => {
      expect(codeOf(spec(exactEnd + 1))).toBe('WARRANT_EXPIRED');
    });
  });

  describe('when the rule forbids the requester to execute', () => {
    it('refuses the requester with EXECUTOR_MISMATCH even where the binding names them', () => {
      const s = validSpec();
      s.claims = { ...s.claims, excluded_executor: principal('deploy-eu') };
      expect(codeOf(s)).toBe('EXECUTOR_MISMATCH');
      expect(check(s)).toMatchObject({ reason: 'the requester may not execute this warrant' });
    });
  });

  describe('when the row counters were edited behind the server', () => {
    it('refuses a warrant whose signed max_uses is spent, however high the row max_uses', () => {
      const s = validSpec();
      s.record = { uses: 3, maxUses: 1_000 };
      expect(codeOf(s)).toBe('WARRANT_EXHAUSTED');
    });
  });

  describe('when the warrant lists targets', () => {
    it.each<[string, string | undefined, string]>([
      ['a listed target', 'eu-2', 'allow'],
      ['an unlisted target', 'us-1', 'TARGET_UNKNOWN'],
      ['no target at all', undefined, 'TARGET_UNKNOWN'],
      ['a target differing in case', 'EU-1', 'TARGET_UNKNOWN'],
    ])('gives %s: %s', (_, target, expected) => {
      const s = validSpec();
      const { target: _t, ...rest } = s.action;
      s.action = target === undefined ? rest : { ...rest, target };
      expect(codeOf(s)).toBe(expected);
    });
  });

  describe('when the warrant lists no targets', () => {
    const untargeted = (target?: string): Spec => {
      const s = validSpec();
      s.claims = baseClaims({ targets: [] });
      const { target: _t, ...rest } = s.action;
      s.action = target === undefined ? rest : { ...rest, target };
      return s;
    };

    it('allows an action without a target', () => {
      expect(codeOf(untargeted())).toBe('allow');
    });

    it('refuses any target with TARGET_UNKNOWN', () => {
      expect(codeOf(untargeted('eu-1'))).toBe('TARGET_UNKNOWN');
      expect(codeOf(untargeted(''))).toBe('TARGET_UNKNOWN');
    });
  });

  describe('when uses approach the maximum', () => {
    it.each([
      [2, 'allow'],
      [3, 'WARRANT_EXHAUSTED'],
      [4, 'WARRANT_EXHAUSTED'],
    ])('gives %i of 3 uses spent: %s', (uses, expected) => {
      expect(codeOf({ ...validSpec(), record: { uses } })).toBe(expected);
    });
  });

  describe('when scopes are random and the action is any of a small world', () => {
    /** The check's answer for `scope` and an action naming `resource` and `permission`. */
    const codeFor = (scope: Scope, resource: string, permission: string): string => {
      const s = validSpec();
      s.claims = baseClaims({ scope });
      s.action = { ...s.action, resource, permission };
      return codeOf(s);
    };

    it('allows exactly the actions the enumerative model grants, and refuses the rest with SCOPE_EXCEEDED', () => {
      fc.assert(
        fc.property(model.scope, (scope) => {
          const granted = model.grants(scope);
          const wrong = model.WORLD_ACTIONS.filter((a) => {
            const expected = granted.has(model.keyOf(a)) ? 'allow' : 'SCOPE_EXCEEDED';
            return codeFor(scope, a.resource, a.permission) !== expected;
          });
          expect(wrong).toEqual([]);
        }),
        { numRuns: 200 },
      );
    });

    it('refuses a traversal, an empty segment or a wildcard with SCOPE_EXCEEDED, even when an entry names it', () => {
      fc.assert(
        fc.property(
          model.scope,
          fc.oneof(
            fc.constantFrom(...model.INVALID_RESOURCES),
            model.pattern.filter((p) => p.includes('*')),
          ),
          model.permission,
          (scope, resource, permission) => {
            const withSelf: Scope = [...scope, { resource, permissions: [permission] }];
            expect(codeFor(withSelf, resource, permission)).toBe('SCOPE_EXCEEDED');
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('when the action resource is a traversal matched by a wildcard', () => {
    // As in core/scope.test.ts: without the concrete-name check in scopeAllows, a warrant
    // for files/* read would redeem files/.. (the parent) as well.
    it('refuses it with SCOPE_EXCEEDED', () => {
      const s = validSpec();
      s.claims = baseClaims({ scope: [{ resource: 'files/*', permissions: ['read'] }] });
      s.action = { ...s.action, resource: 'files/..', permission: 'read' };
      expect(codeOf(s)).toBe('SCOPE_EXCEEDED');
    });
  });
});
