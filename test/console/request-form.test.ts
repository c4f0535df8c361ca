import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { bodyOf, type FormState } from '../../console/src/lib/request-form.js';
import { CreateRequestBody } from '../../src/http/schemas.js';

const form = (over: Partial<FormState> = {}): FormState => ({
  subject: ' svc:payments-api ',
  action: 'grant',
  environment: 'prod',
  targets: 'eu-1, us-1  ap-1',
  executorKind: 'principal',
  principal: 'deploy-eu',
  issuer: '',
  claims: '',
  duration: '2h',
  maxUses: '3',
  reason: ' month-end report ',
  ticket: '',
  scope: [
    { key: 1, resource: 'db/orders', permissions: 'read, write' },
    { key: 2, resource: '  ', permissions: '' },
  ],
  ...over,
});

describe('bodyOf', () => {
  describe('when the form is complete', () => {
    it('makes a body the server schema accepts, trimmed, with empty rows dropped', () => {
      const body = bodyOf(form());
      expect(typeof body).toBe('object');
      expect(Value.Check(CreateRequestBody, body)).toBe(true);
      expect(body).toMatchObject({
        subject: 'svc:payments-api',
        scope: [{ resource: 'db/orders', permissions: ['read', 'write'] }],
        targets: ['eu-1', 'us-1', 'ap-1'],
        executor: { principal: 'deploy-eu' },
        maxUses: 3,
        reason: 'month-end report',
      });
      expect(body).not.toHaveProperty('ticket');
    });

    it('binds a workload by issuer and claims, one name=value per line', () => {
      const body = bodyOf(
        form({
          executorKind: 'claims',
          issuer: 'https://token.actions.githubusercontent.com',
          claims: 'repository = acme/payments\n\nref=refs/heads/main',
        }),
      );
      expect(Value.Check(CreateRequestBody, body)).toBe(true);
      expect(body).toMatchObject({
        executor: {
          issuer: 'https://token.actions.githubusercontent.com',
          claims: { repository: 'acme/payments', ref: 'refs/heads/main' },
        },
      });
    });
  });

  describe('when something is missing', () => {
    it.each([
      [{ subject: ' ' }, 'Name the NHI.'],
      [{ scope: [] }, 'Add at least one scope row.'],
      [
        { scope: [{ key: 1, resource: 'db/x', permissions: ' , ' }] },
        'Every scope row needs a permission.',
      ],
      [{ environment: '' }, 'Name the environment.'],
      [{ reason: '  ' }, 'Give a reason.'],
      [{ principal: '' }, 'Name the executor principal.'],
      [
        { executorKind: 'claims', issuer: 'https://i', claims: 'no-equals' },
        'Write each claim as name=value.',
      ],
      [
        { executorKind: 'claims', issuer: '', claims: 'a=b' },
        'A workload binding needs an issuer and a claim.',
      ],
    ] as const)('says what: %o → %s', (over, why) => {
      expect(bodyOf(form(over as Partial<FormState>))).toBe(why);
    });

    it('leaves out a max uses that is not a whole number, so the policy default applies', () => {
      expect(bodyOf(form({ maxUses: '2.5' }))).not.toHaveProperty('maxUses');
    });
  });
});
