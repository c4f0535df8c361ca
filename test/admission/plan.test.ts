import { describe, expect, it } from 'vitest';
import { planAdmission, type AdmissionConfig } from '../../src/admission/plan.js';
import { parseReview, type AdmissionRequest } from '../../src/admission/review.js';

/** A compact JWS in shape; the server, not the plan, verifies it. */
const W = 'eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJ3cnRfMSJ9.c2lnbmF0dXJl';
const config: AdmissionConfig = { cluster: 'prod-eu', kinds: ['Secret', 'Deployment'] };
const PROTECTED = {
  'countersign.io/protected': 'true',
  'countersign.io/environment': 'prod',
};

const secret = (data: Record<string, string>, annotations: Record<string, string> = {}) => ({
  kind: 'Secret',
  apiVersion: 'v1',
  metadata: { name: 'db-password', namespace: 'payments', annotations },
  data,
  type: 'Opaque',
});

const request = (over: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  uid: 'b1d3f5a7-9c2e-4b6d-8f0a-1c3e5a7b9d2f',
  kind: { group: '', version: 'v1', kind: 'Secret' },
  name: 'db-password',
  namespace: 'payments',
  operation: 'UPDATE',
  object: secret({ password: 'czNjcjN0' }, { 'countersign.io/warrant': W }),
  oldObject: secret({ password: 'b2xk' }),
  dryRun: false,
  ...over,
});

describe('planAdmission', () => {
  describe('when a governed change in a protected namespace carries a warrant', () => {
    it('redeems the action the object maps to, keyed by the review uid', () => {
      const plan = planAdmission(request(), PROTECTED, config);
      expect(plan).toMatchObject({
        kind: 'redeem',
        warrant: W,
        action: {
          resource: 'k8s/payments/secret/db-password',
          permission: 'update',
          environment: 'prod',
          target: 'prod-eu',
        },
        dryRun: false,
        idempotencyKey: 'k8s:prod-eu:b1d3f5a7-9c2e-4b6d-8f0a-1c3e5a7b9d2f',
        change: { phase: 'apply', secret: true },
      });
    });

    it('versions a Secret by its content, whatever order its keys came in', () => {
      const a = planAdmission(
        request({ object: secret({ a: 'MQ==', b: 'Mg==' }, { 'countersign.io/warrant': W }) }),
        PROTECTED,
        config,
      );
      const b = planAdmission(
        request({ object: secret({ b: 'Mg==', a: 'MQ==' }, { 'countersign.io/warrant': W }) }),
        PROTECTED,
        config,
      );
      const c = planAdmission(
        request({ object: secret({ a: 'MQ==', b: 'Mw==' }, { 'countersign.io/warrant': W }) }),
        PROTECTED,
        config,
      );
      const version = (p: typeof a) => (p.kind === 'redeem' ? p.change.fingerprint : null);
      expect(version(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(version(a)).toBe(version(b));
      expect(version(a)).not.toBe(version(c));
    });

    it('fingerprints another kind by what the change sets, not by its metadata or status', () => {
      const deployment = (image: string, resourceVersion: string) => ({
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: {
          name: 'web',
          namespace: 'payments',
          resourceVersion,
          annotations: { 'countersign.io/warrant': W },
        },
        spec: { template: { spec: { containers: [{ name: 'web', image }] } } },
        status: { replicas: Number(resourceVersion) },
      });
      const plan = (object: NonNullable<AdmissionRequest['object']>) =>
        planAdmission(
          request({
            kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
            name: 'web',
            object,
          }),
          PROTECTED,
          config,
        );
      const change = (object: NonNullable<AdmissionRequest['object']>) => {
        const p = plan(object);
        return p.kind === 'redeem' ? p.change : null;
      };
      const v1 = change(deployment('web:1', '1'));
      expect(v1).toMatchObject({ phase: 'apply', secret: false });
      expect(v1?.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(change(deployment('web:1', '2'))?.fingerprint).toBe(v1?.fingerprint);
      expect(change(deployment('web:2', '1'))?.fingerprint).not.toBe(v1?.fingerprint);
      expect(plan(deployment('web:\ud800', '1'))).toMatchObject({
        kind: 'refuse',
        code: 'REVIEW_MALFORMED',
      });
    });

    it('reads the warrant of a deletion from the object being deleted, as a revoke', () => {
      const plan = planAdmission(
        request({
          operation: 'DELETE',
          object: null,
          oldObject: secret({}, { 'countersign.io/warrant': 'OLD' }),
        }),
        PROTECTED,
        config,
      );
      expect(plan).toMatchObject({
        kind: 'redeem',
        warrant: 'OLD',
        action: { permission: 'delete' },
        change: { phase: 'revoke', fingerprint: null },
      });
    });

    it('asks for a dry run when the review is one', () => {
      expect(planAdmission(request({ dryRun: true }), PROTECTED, config)).toMatchObject({
        kind: 'redeem',
        dryRun: true,
      });
    });

    it('refuses a dry run whose warrant is no JWS itself, since countersign would record it', () => {
      const annotated = (w: string) => secret({}, { 'countersign.io/warrant': w });
      for (const w of ['not-a-jws', `${W}.extra`, `a.${'b'.repeat(16_400)}.c`]) {
        const plan = planAdmission(
          request({ dryRun: true, object: annotated(w) }),
          PROTECTED,
          config,
        );
        expect(plan).toMatchObject({ kind: 'refuse', code: 'WARRANT_MALFORMED' });
        expect(planAdmission(request({ object: annotated(w) }), PROTECTED, config).kind).toBe(
          'redeem',
        );
      }
    });
  });

  describe('when the change is not governed', () => {
    it.each([
      ['an unprotected namespace', request(), { 'countersign.io/environment': 'prod' }],
      [
        'another kind',
        request({ kind: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role' } }),
        PROTECTED,
      ],
      ['a subresource', request({ subResource: 'status' }), PROTECTED],
      ['a CONNECT', request({ operation: 'CONNECT' }), PROTECTED],
    ])('lets %s pass without a warrant', (_what, req, labels) => {
      expect(planAdmission(req, labels, config).kind).toBe('pass');
    });
  });

  describe('when a governed change cannot be bound to an action', () => {
    it('refuses a change with no warrant with WARRANT_MISSING', () => {
      const plan = planAdmission(request({ object: secret({}) }), PROTECTED, config);
      expect(plan).toMatchObject({ kind: 'refuse', code: 'WARRANT_MISSING' });
    });

    it('refuses a namespace with no environment label with ENVIRONMENT_UNLABELLED', () => {
      const labels = { 'countersign.io/protected': 'true' };
      expect(planAdmission(request(), labels, config)).toMatchObject({
        kind: 'refuse',
        code: 'ENVIRONMENT_UNLABELLED',
      });
    });

    it('treats a namespace whose labels cannot be read as protected, and refuses', () => {
      expect(planAdmission(request(), null, config)).toMatchObject({
        kind: 'refuse',
        code: 'ENVIRONMENT_UNLABELLED',
      });
    });

    it('refuses an object with no name (generateName) with OBJECT_UNNAMED', () => {
      const object = {
        ...secret({}, { 'countersign.io/warrant': W }),
        metadata: { annotations: {} },
      };
      const plan = planAdmission(
        request({ operation: 'CREATE', name: '', object }),
        PROTECTED,
        config,
      );
      expect(plan).toMatchObject({ kind: 'refuse', code: 'OBJECT_UNNAMED' });
    });

    it('refuses a Secret whose content JCS cannot hold with REVIEW_MALFORMED, never a guessed version', () => {
      const object = secret({ password: '\ud800' }, { 'countersign.io/warrant': W });
      const plan = planAdmission(request({ object }), PROTECTED, config);
      expect(plan).toMatchObject({ kind: 'refuse', code: 'REVIEW_MALFORMED' });
    });
  });
});

describe('parseReview', () => {
  const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: request() };

  it('reads a v1 review, keeping the fields it does not check', () => {
    const parsed = parseReview({
      ...review,
      request: { ...review.request, userInfo: { username: 'x' } },
    });
    expect(parsed.kind).toBe('review');
  });

  it('answers a review with a uid but a malformed request in the review itself', () => {
    const parsed = parseReview({ ...review, request: { ...review.request, operation: 'PATCH' } });
    expect(parsed).toMatchObject({ kind: 'malformed', uid: review.request.uid });
  });

  it.each([
    ['not an object', 'text'],
    ['null', null],
    ['another apiVersion', { ...review, apiVersion: 'admission.k8s.io/v1beta1' }],
    ['no uid', { ...review, request: { ...review.request, uid: '' } }],
  ])('refuses %s outright', (_what, body) => {
    expect(parseReview(body).kind).toBe('unreadable');
  });
});
