import { Value } from '@sinclair/typebox/value';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { PrincipalId, ReceiptId, RequestId, WarrantId } from '../../src/core/ids.js';
import type { IdentityProof } from '../../src/core/vocabulary.js';
import { ReceiptSchema, type ReceiptClaims } from '../../src/redemption/receipt.js';
import type { RedemptionAction } from '../../src/redemption/redemption.js';

const receipt = (): Record<string, unknown> => ({
  iss: 'countersign',
  jti: 'rcp_1',
  iat: 1_770_000_060,
  warrant_id: 'wrt_1',
  request_id: `sha256:${'a'.repeat(64)}`,
  sub: 'svc:payments',
  use: 1,
  max_uses: 2,
  action: { resource: 'db/orders', permission: 'read', environment: 'prod', target: 'db-eu-1' },
  executor: 'gha:repo:acme/deploy:environment:prod',
  executor_identity: {
    via: 'oidc',
    issuer: 'https://token.actions.githubusercontent.com',
    subject: 'repo:acme/deploy:environment:prod',
    auth_time: null,
    token_digest: `sha256:${'c'.repeat(64)}`,
  },
});

describe('ReceiptSchema', () => {
  describe('when a receipt holds what its type forbids', () => {
    const refused: [string, (r: Record<string, unknown>) => void][] = [
      ['no executor identity', (r) => delete r.executor_identity],
      ['an identity proof of an unknown kind', (r) => (r.executor_identity = { via: 'magic' })],
      [
        'an oidc proof without its token digest',
        (r) => (r.executor_identity = { via: 'oidc', issuer: 'i', subject: 's', auth_time: null }),
      ],
      [
        'an api-token proof with members it does not define',
        (r) => (r.executor_identity = { via: 'api_token', token: 'secret' }),
      ],
      [
        'an action with a member it does not define',
        (r) => ((r.action as object & { x?: 1 }).x = 1),
      ],
      [
        'an action without an environment',
        (r) => delete (r.action as { environment?: string }).environment,
      ],
      [
        'an action naming a resource longer than any scope',
        (r) => ((r.action as { resource: string }).resource = 'a'.repeat(1025)),
      ],
      ['a request id that is not a sha256 digest', (r) => (r.request_id = 'req_1')],
      ['a subject that is not an NHI id', (r) => (r.sub = 'payments')],
      ['use zero', (r) => (r.use = 0)],
      ['a member the schema does not define', (r) => (r.admin = true)],
    ];
    it.each(refused)('refuses %s', (_, change) => {
      const r = receipt();
      change(r);
      expect(Value.Check(ReceiptSchema, r)).toBe(false);
    });

    it('accepts the unchanged receipt, and one without a target or of an API-token caller', () => {
      expect(Value.Check(ReceiptSchema, receipt())).toBe(true);
      const r = receipt();
      delete (r.action as { target?: string }).target;
      r.executor_identity = { via: 'api_token' };
      expect(Value.Check(ReceiptSchema, r)).toBe(true);
    });
  });

  describe('when the type is derived', () => {
    it('keeps the branded ids, the action and the identity proof', () => {
      expectTypeOf<ReceiptClaims['jti']>().toEqualTypeOf<ReceiptId>();
      expectTypeOf<ReceiptClaims['warrant_id']>().toEqualTypeOf<WarrantId>();
      expectTypeOf<ReceiptClaims['request_id']>().toEqualTypeOf<RequestId>();
      expectTypeOf<ReceiptClaims['executor']>().toEqualTypeOf<PrincipalId>();
      expectTypeOf<ReceiptClaims['action']>().toEqualTypeOf<RedemptionAction>();
      expectTypeOf<ReceiptClaims['executor_identity']>().toEqualTypeOf<IdentityProof>();
    });
  });
});
