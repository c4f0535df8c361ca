import { digestOf } from '../core/canonical.js';
import { randomId } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import type { Brand, NhiId, PrincipalId } from '../core/ids.js';
import { assertPattern, assertPermission } from '../core/scope.js';
import { TARGET_PATTERN } from '../core/vocabulary.js';
import { assertNoSecretMaterial, isFingerprint, looksLikeSecret } from '../core/secrets.js';
import { assertNhiId } from '../core/vocabulary.js';
import { parseRfc3339 } from './instant.js';

/**
 * Observation: what a collector saw to be true at a target, independent of any
 * approval or report. Observations are facts with a time; the reconciler orders
 * them by `observedAt`.
 */

export type ObservationId = Brand<string, 'ObservationId'>;
export const newObservationId = (): ObservationId => randomId('obs') as ObservationId;

/**
 * A fact about one subject at one target. A `grant` resource may contain `*`
 * segments: the subject then holds a wildcard grant, broader than any one name.
 */
export type ObservedFact =
  | { readonly kind: 'secret_version'; readonly fingerprint: string }
  | {
      readonly kind: 'grant';
      readonly resource: string;
      readonly permission: string;
      readonly present: boolean;
    };

export interface Observation {
  readonly id: ObservationId;
  readonly observer: PrincipalId;
  readonly subject: NhiId;
  readonly target: string;
  readonly observedAt: string;
  readonly fact: ObservedFact;
  readonly receivedAt: string;
}

/**
 * - `OBSERVATION_INVALID`: a malformed field, or `observedAt` more than 5 minutes ahead.
 * - `OBSERVATION_OUT_OF_ORDER`: older than the latest recorded for the same fact identity.
 * - `SECRET_MATERIAL_REJECTED`: a field looks like a credential; it is not stored.
 */
export type ObservationErrorCode =
  'OBSERVATION_INVALID' | 'OBSERVATION_OUT_OF_ORDER' | 'SECRET_MATERIAL_REJECTED';

export interface ObservationInput {
  readonly subject: string;
  readonly target: string;
  readonly observedAt: string;
  readonly fact: ObservedFact;
}

/** A validated observation: fields normalised, `observedAt` in `toISOString` form. */
export interface ValidObservation {
  readonly subject: NhiId;
  readonly target: string;
  readonly observedAt: string;
  readonly fact: ObservedFact;
  /** {@link observationKey} of the normalised observation. */
  readonly key: `sha256:${string}`;
}

export interface ObservationContext {
  readonly now: Date;
  /** The latest `observedAt` already recorded for this fact identity, or null. */
  latestObservedAt(subject: string, target: string, factKey: string): string | null;
  /**
   * True when an observation with this key is already recorded. A re-sent duplicate
   * is then not out of order: the service returns the stored record, appends nothing.
   */
  isDuplicate?(key: string): boolean;
}

export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/**
 * The identity of the thing a fact is about, at one subject and target: one secret
 * (`secret_version`), or one resource and permission (`grant|<resource>|<permission>`).
 * Observations of the same identity must arrive in `observedAt` order.
 */
export function factKey(fact: ObservedFact): string {
  switch (fact.kind) {
    case 'secret_version':
      return 'secret_version';
    case 'grant':
      return `grant|${fact.resource}|${fact.permission}`;
  }
}

/**
 * A stable digest of `{subject, target, observedAt, fact}` (RFC 8785 canonical JSON),
 * so that a collector re-sending the same observation is recognised: same key, no
 * new event. The observer and the receive time are not part of it.
 */
export function observationKey(o: {
  readonly subject: string;
  readonly target: string;
  readonly observedAt: string;
  readonly fact: ObservedFact;
}): `sha256:${string}` {
  return digestOf({ subject: o.subject, target: o.target, observedAt: o.observedAt, fact: o.fact });
}

function invalid(message: string, field: string): CountersignError<ObservationErrorCode> {
  return new CountersignError('OBSERVATION_INVALID', message, { details: { field } });
}

function normaliseFact(raw: unknown): ObservedFact {
  if (typeof raw !== 'object' || raw === null) throw invalid('fact must be an object', 'fact');
  const f = raw as Readonly<Record<string, unknown>>;
  switch (f.kind) {
    case 'secret_version': {
      if (!isFingerprint(f.fingerprint)) {
        if (typeof f.fingerprint === 'string' && looksLikeSecret(f.fingerprint) !== null) {
          assertNoSecretMaterial({ fact: { fingerprint: f.fingerprint } });
        }
        throw invalid('fingerprint must be sha256: + 64 lowercase hex', 'fact.fingerprint');
      }
      return { kind: 'secret_version', fingerprint: f.fingerprint };
    }
    case 'grant': {
      const { resource, permission, present } = f;
      if (typeof resource !== 'string' || typeof permission !== 'string') {
        throw invalid('a grant names a resource and a permission', 'fact');
      }
      assertNoSecretMaterial({ fact: { resource, permission } });
      try {
        assertPattern(resource);
        assertPermission(permission);
      } catch (cause) {
        throw new CountersignError<ObservationErrorCode>(
          'OBSERVATION_INVALID',
          'invalid grant resource or permission',
          { cause, details: { field: 'fact' } },
        );
      }
      if (typeof present !== 'boolean') throw invalid('present must be a boolean', 'fact.present');
      return { kind: 'grant', resource, permission, present };
    }
    default:
      throw invalid('fact kind must be secret_version or grant', 'fact.kind');
  }
}

/**
 * Validates and normalises a collector's observation. Checks, in order: subject,
 * target and `observedAt` shape (RFC 3339 with offset, at most 5 minutes ahead of
 * `now`); the fact (strict `sha256:` fingerprints, valid grant pattern); no secret
 * material anywhere; then order — an observation strictly older than the latest
 * recorded for the same (subject, target, {@link factKey}) is `OBSERVATION_OUT_OF_ORDER`,
 * unless `isDuplicate` recognises it as a re-send. Equal times are accepted.
 */
export function validateObservation(
  input: ObservationInput,
  ctx: ObservationContext,
): ValidObservation {
  const raw = input as unknown as Readonly<Record<string, unknown>>;
  const { subject, target, observedAt } = raw;
  if (typeof subject !== 'string') throw invalid('subject must be a string', 'subject');
  if (typeof target !== 'string') throw invalid('target must be a string', 'target');
  if (typeof observedAt !== 'string') throw invalid('observedAt must be a string', 'observedAt');
  assertNoSecretMaterial({ subject, target, observedAt });
  try {
    assertNhiId(subject);
  } catch (cause) {
    throw new CountersignError<ObservationErrorCode>('OBSERVATION_INVALID', 'invalid subject', {
      cause,
      details: { field: 'subject' },
    });
  }
  if (!TARGET_PATTERN.test(target)) {
    throw invalid('target must be 1-128 characters of letters, digits and ._:@/+=-', 'target');
  }
  const at = parseRfc3339(observedAt);
  if (at === null)
    throw invalid('observedAt must be an RFC 3339 timestamp with an offset', 'observedAt');
  if (at.getTime() > ctx.now.getTime() + MAX_FUTURE_SKEW_MS) {
    throw invalid('observedAt lies more than 5 minutes in the future', 'observedAt');
  }
  const fact = normaliseFact(raw.fact);
  const normalised = { subject, target, observedAt: at.toISOString(), fact };
  const key = observationKey(normalised);
  if (ctx.isDuplicate?.(key) !== true) {
    const latest = ctx.latestObservedAt(subject, target, factKey(fact));
    if (latest !== null && at.getTime() < Date.parse(latest)) {
      throw new CountersignError<ObservationErrorCode>(
        'OBSERVATION_OUT_OF_ORDER',
        `an observation of ${factKey(fact)} at ${target} newer than observedAt is already recorded`,
        { details: { target, fact: factKey(fact), latest } },
      );
    }
  }
  return { ...normalised, key };
}
