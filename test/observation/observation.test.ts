import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  factKey,
  observationKey,
  validateObservation,
  type ObservationContext,
  type ObservationInput,
} from '../../src/observation/observation.js';
import { parseRfc3339 } from '../../src/observation/instant.js';
import { expectCode } from '../helpers/expect-code.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const F = `sha256:${'cd'.repeat(32)}`;
const none: ObservationContext = { now: NOW, latestObservedAt: () => null };
const version: ObservationInput = {
  subject: 'svc:payments-api',
  target: 'eu',
  observedAt: '2026-03-01T11:59:00Z',
  fact: { kind: 'secret_version', fingerprint: F },
};
const grantSeen = (resource: string, present = true): ObservationInput => ({
  ...version,
  fact: { kind: 'grant', resource, permission: 'read', present },
});
const validate = (over: Record<string, unknown>, ctx: ObservationContext = none) =>
  validateObservation({ ...version, ...over }, ctx);

describe('validateObservation', () => {
  describe('when the observation is well formed', () => {
    it('normalises observedAt and returns the idempotency key', () => {
      const v = validate({ observedAt: '2026-03-01T12:59:00+01:00' });
      expect(v.observedAt).toBe('2026-03-01T11:59:00.000Z');
      expect(v.key).toBe(observationKey(v));
      expect(v.key).toBe(validate({}).key);
    });

    it('accepts a wildcard grant, which the reconciler reads as broader than any name', () => {
      expect(validateObservation(grantSeen('db/*'), none).fact).toEqual({
        kind: 'grant',
        resource: 'db/*',
        permission: 'read',
        present: true,
      });
    });

    it('drops fields the fact does not define, so they cannot change the key', () => {
      const v = validate({ fact: { kind: 'secret_version', fingerprint: F, note: 'x' } });
      expect(v.fact).toEqual({ kind: 'secret_version', fingerprint: F });
      expect(v.key).toBe(validate({}).key);
    });
  });

  describe('when a field is malformed', () => {
    it.each<[string, Record<string, unknown>]>([
      ['a subject that is not an NHI id', { subject: 'payments' }],
      ['a target with spaces', { target: 'eu west' }],
      ['a timestamp without offset', { observedAt: '2026-03-01T11:59:00' }],
      ['an impossible date', { observedAt: '2026-02-30T11:59:00Z' }],
      ['a time more than 5 minutes ahead', { observedAt: '2026-03-01T12:05:01Z' }],
      ['an unknown fact kind', { fact: { kind: 'mood' } }],
      [
        'a fingerprint that is not a digest',
        { fact: { kind: 'secret_version', fingerprint: 'v2' } },
      ],
      [
        'a grant without present',
        { fact: { kind: 'grant', resource: 'db/orders', permission: 'read' } },
      ],
      [
        'a grant on a traversal',
        { fact: { kind: 'grant', resource: 'db/../x', permission: 'read', present: true } },
      ],
    ])('refuses %s with OBSERVATION_INVALID', (_, over) => {
      expectCode(() => validate(over), 'OBSERVATION_INVALID');
    });

    it('accepts a time up to 5 minutes ahead', () => {
      expect(validate({ observedAt: '2026-03-01T12:05:00Z' }).observedAt).toBe(
        '2026-03-01T12:05:00.000Z',
      );
    });
  });

  describe('when a field carries secret material', () => {
    it('refuses it without echoing it', () => {
      const secret = 'ghp_' + 'a1B2'.repeat(9);
      const err = expectCode(
        () => validate({ fact: { kind: 'secret_version', fingerprint: secret } }),
        'SECRET_MATERIAL_REJECTED',
      );
      expect(err.message).not.toContain(secret);
      expectCode(() => validate({ target: 'AKIAIOSFODNN7EXAMPLE' }), 'SECRET_MATERIAL_REJECTED');
    });
  });

  describe('when an observation is older than the latest of its fact identity', () => {
    const latest = (at: string, only: string): ObservationContext => ({
      now: NOW,
      latestObservedAt: (subject, target, key) =>
        subject === 'svc:payments-api' && target === 'eu' && key === only ? at : null,
    });

    it('refuses it with OBSERVATION_OUT_OF_ORDER', () => {
      expectCode(
        () => validate({}, latest('2026-03-01T11:59:30Z', 'secret_version')),
        'OBSERVATION_OUT_OF_ORDER',
      );
    });

    it('accepts an equal time, and an older fact of another identity', () => {
      expect(() => validate({}, latest('2026-03-01T11:59:00Z', 'secret_version'))).not.toThrow();
      const ctx = latest('2026-03-01T11:59:30Z', 'grant|db/orders|read');
      expect(() => validateObservation(grantSeen('db/invoices'), ctx)).not.toThrow();
      expectCode(
        () => validateObservation(grantSeen('db/orders', false), ctx),
        'OBSERVATION_OUT_OF_ORDER',
      );
    });

    it('accepts a re-sent duplicate, which the service then records only once', () => {
      const key = validate({}).key;
      const ctx = {
        ...latest('2026-03-01T11:59:30Z', 'secret_version'),
        isDuplicate: (k: string) => k === key,
      };
      expect(validate({}, ctx).key).toBe(key);
    });
  });
});

describe('observationKey', () => {
  describe('when two observations differ in any keyed field', () => {
    it('gives different keys, and equal keys for equal observations', () => {
      const obs = fc.record({
        subject: fc.constantFrom('svc:a', 'svc:b'),
        target: fc.constantFrom('eu', 'us'),
        observedAt: fc.constantFrom('2026-03-01T11:00:00.000Z', '2026-03-01T11:00:01.000Z'),
        fact: fc.oneof(
          fc
            .constantFrom(F, `sha256:${'0'.repeat(64)}`)
            .map((fingerprint) => ({ kind: 'secret_version' as const, fingerprint })),
          fc.record({
            kind: fc.constant('grant' as const),
            resource: fc.constantFrom('db/orders', 'db/*'),
            permission: fc.constant('read'),
            present: fc.boolean(),
          }),
        ),
      });
      fc.assert(
        fc.property(obs, obs, (a, b) => {
          expect(observationKey(a) === observationKey(b)).toBe(
            JSON.stringify(a) === JSON.stringify(b),
          );
        }),
      );
    });
  });
});

describe('factKey', () => {
  describe('when facts are about the same thing', () => {
    it('is the kind for secrets and resource plus permission for grants', () => {
      expect(factKey({ kind: 'secret_version', fingerprint: F })).toBe('secret_version');
      expect(factKey({ kind: 'grant', resource: 'db/*', permission: 'read', present: false })).toBe(
        'grant|db/*|read',
      );
    });
  });
});

describe('parseRfc3339', () => {
  describe('when given timestamps', () => {
    it('accepts offsets and fractions, and refuses what RFC 3339 does not allow', () => {
      expect(parseRfc3339('2026-03-01T12:00:00.123456789+02:00')?.toISOString()).toBe(
        '2026-03-01T10:00:00.123Z',
      );
      for (const bad of [
        '2026-03-01',
        '2026-03-01 12:00:00Z',
        '2026-13-01T00:00:00Z',
        '2026-03-01T24:00:00Z',
        '2025-02-29T00:00:00Z',
      ]) {
        expect(parseRfc3339(bad), bad).toBeNull();
      }
      expect(parseRfc3339('2024-02-29T00:00:00Z')).not.toBeNull();
    });
  });
});
