import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertNotDuplicate,
  fulfilmentKey,
  validateFulfilmentInput,
  type FulfilmentContext,
  type FulfilmentInput,
} from '../../src/fulfilment/fulfilment.js';
import { expectCode } from '../helpers/expect-code.js';

const NOW = new Date('2026-03-01T13:00:00.000Z');
const F = `sha256:${'ab'.repeat(32)}`;
const ctx: FulfilmentContext = {
  receiptExecutor: 'deployer',
  caller: 'deployer',
  warrantTargets: ['eu', 'us', 'ap'],
  redeemedTarget: 'eu',
  now: NOW,
  windowEnd: '2026-03-01T14:00:00.000Z',
};
const ok: FulfilmentInput = { target: 'eu', outcome: 'success', fingerprint: F };
const validate = (
  input: Partial<Record<keyof FulfilmentInput, unknown>>,
  over: Partial<FulfilmentContext> = {},
) =>
  validateFulfilmentInput({ ...ok, ...input } as FulfilmentInput, {
    ...ctx,
    // By default the receipt was redeemed for the target reported, as an honest executor's is.
    redeemedTarget: typeof input.target === 'string' ? input.target : ctx.redeemedTarget,
    ...over,
  });

describe('validateFulfilmentInput', () => {
  describe('when the report is well formed', () => {
    it('normalises it: phase apply by default, null for absent fields, stamped now', () => {
      expect(validate({})).toEqual({
        target: 'eu',
        outcome: 'success',
        phase: 'apply',
        fingerprint: F,
        detail: null,
        at: NOW.toISOString(),
        afterWindow: false,
      });
    });

    it('accepts a failure or a revoke without a fingerprint, and a late report marked afterWindow', () => {
      expect(validate({ outcome: 'failure', fingerprint: undefined }).fingerprint).toBeNull();
      expect(validate({ phase: 'revoke', fingerprint: null }).phase).toBe('revoke');
      expect(validate({}, { windowEnd: new Date('2026-03-01T12:00:00Z') }).afterWindow).toBe(true);
    });

    it('accepts only the literal target "default" for a warrant without targets', () => {
      const untargeted = { warrantTargets: [], redeemedTarget: undefined };
      expect(validate({ target: 'default' }, untargeted).target).toBe('default');
      expectCode(() => validate({ target: 'eu' }, { warrantTargets: [] }), 'TARGET_NOT_APPROVED');
    });
  });

  describe('when the caller is not the executor the receipt names', () => {
    it('refuses with RECEIPT_NOT_YOURS before looking at the body', () => {
      expectCode(() => validate({ target: 42 }, { caller: 'intruder' }), 'RECEIPT_NOT_YOURS');
    });
  });

  describe('when a field is malformed', () => {
    it.each<[string, Partial<Record<keyof FulfilmentInput, unknown>>]>([
      ['a non-string target', { target: 7 }],
      ['an unknown outcome', { outcome: 'done' }],
      ['an unknown phase', { phase: 'undo' }],
      ['an uppercase fingerprint', { fingerprint: `sha256:${'AB'.repeat(32)}` }],
      ['a short fingerprint', { fingerprint: 'sha256:abc' }],
      ['a fingerprint with another algorithm', { fingerprint: `md5:${'a'.repeat(32)}` }],
      ['a success apply without a fingerprint', { fingerprint: null }],
      ['a target with spaces', { target: 'eu west' }],
      ['a target with the key separator', { target: 'eu|us' }],
      ['a detail that is too long', { detail: 'x '.repeat(1_001) }],
    ])('refuses %s with FULFILMENT_INVALID', (_, input) => {
      expectCode(() => validate(input), 'FULFILMENT_INVALID');
    });
  });

  describe('when a field carries secret material', () => {
    it('refuses a secret in the detail, naming the field but not the value', () => {
      const err = expectCode(
        () => validate({ detail: 'set password=s3cr3t-value' }),
        'SECRET_MATERIAL_REJECTED',
      );
      expect(err.details).toEqual({ field: 'detail', pattern: 'credential_assignment' });
      expect(err.message).not.toContain('s3cr3t-value');
    });

    it('refuses a secret pasted where the fingerprint belongs', () => {
      const err = expectCode(
        () => validate({ fingerprint: 'AKIAIOSFODNN7EXAMPLE' }),
        'SECRET_MATERIAL_REJECTED',
      );
      expect(err.message).not.toContain('AKIAIOSFODNN7EXAMPLE');
    });
  });

  describe('when the target is not the one the receipt was redeemed for', () => {
    it('refuses a success for us against a receipt redeemed for eu, with TARGET_NOT_REDEEMED', () => {
      const err = expectCode(
        () => validate({ target: 'us' }, { redeemedTarget: 'eu' }),
        'TARGET_NOT_REDEEMED',
      );
      expect(err.details).toEqual({ target: 'us' });
    });

    it('refuses any named target against a receipt of an untargeted redemption', () => {
      expectCode(
        () => validate({ target: 'us' }, { redeemedTarget: undefined }),
        'TARGET_NOT_REDEEMED',
      );
    });
  });

  describe('when the target is not approved', () => {
    it('refuses with TARGET_NOT_APPROVED', () => {
      const err = expectCode(() => validate({ target: 'sa' }), 'TARGET_NOT_APPROVED');
      expect(err.details).toEqual({ target: 'sa' });
    });

    it('accepts exactly the approved targets', () => {
      fc.assert(
        fc.property(fc.constantFrom('eu', 'us', 'ap', 'sa', 'default'), (target) => {
          const approved = ctx.warrantTargets.includes(target);
          if (approved) expect(validate({ target }).target).toBe(target);
          else expectCode(() => validate({ target }), 'TARGET_NOT_APPROVED');
        }),
      );
    });
  });
});

describe('assertNotDuplicate', () => {
  const prior = [
    { receiptId: 'rcp_1', target: 'eu', phase: 'apply' as const, outcome: 'failure' as const },
    { receiptId: 'rcp_1', target: 'us', phase: 'apply' as const, outcome: 'success' as const },
  ];

  describe('when a success was already reported for the receipt, target and phase', () => {
    it('refuses with FULFILMENT_DUPLICATE', () => {
      expectCode(
        () => assertNotDuplicate(prior, { receiptId: 'rcp_1', target: 'us', phase: 'apply' }),
        'FULFILMENT_DUPLICATE',
      );
    });
  });

  describe('when only a failure was reported, or another phase', () => {
    it('accepts the retry and the revoke', () => {
      expect(() =>
        assertNotDuplicate(prior, { receiptId: 'rcp_1', target: 'eu', phase: 'apply' }),
      ).not.toThrow();
      expect(() =>
        assertNotDuplicate(prior, { receiptId: 'rcp_1', target: 'us', phase: 'revoke' }),
      ).not.toThrow();
      expect(fulfilmentKey({ receiptId: 'rcp_1', target: 'us', phase: 'revoke' })).toBe(
        'rcp_1|us|revoke',
      );
    });
  });
});
