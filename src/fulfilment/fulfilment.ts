import { randomId } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import { approvedTargets, TARGET_PATTERN, UNTARGETED } from '../core/vocabulary.js';
import type { Brand, NhiId, PrincipalId, ReceiptId, RequestId, WarrantId } from '../core/ids.js';
import { assertNoSecretMaterial, isFingerprint, looksLikeSecret } from '../core/secrets.js';

/**
 * Fulfilment: an executor's report of what it did at one target, bound to the
 * signed receipt of the redemption that authorised it. A report is a claim, not a
 * fact; the reconciler weighs it against what collectors observe.
 */

export type FulfilmentId = Brand<string, 'FulfilmentId'>;
export const newFulfilmentId = (): FulfilmentId => randomId('ful') as FulfilmentId;

/**
 * `apply` reports the approved change; `revoke` reports that a time-boxed grant
 * was taken away again at a target (normally after the window, or earlier).
 */
export const FULFILMENT_PHASES = ['apply', 'revoke'] as const;
export type FulfilmentPhase = (typeof FULFILMENT_PHASES)[number];

export const FULFILMENT_OUTCOMES = ['success', 'failure'] as const;
export type FulfilmentOutcome = (typeof FULFILMENT_OUTCOMES)[number];

/** A stored fulfilment report. Immutable once written to the log. */
export interface Fulfilment {
  readonly id: FulfilmentId;
  readonly requestId: RequestId;
  readonly warrantId: WarrantId;
  readonly receiptId: ReceiptId;
  readonly executor: PrincipalId;
  readonly subject: NhiId;
  readonly target: string;
  readonly phase: FulfilmentPhase;
  readonly outcome: FulfilmentOutcome;
  /** `sha256:<64 hex>` of what now exists at the target (e.g. the new secret version). */
  readonly fingerprint: string | null;
  readonly detail: string | null;
  readonly at: string;
}

/**
 * - `FULFILMENT_INVALID`: a malformed field, or a success `apply` without a fingerprint.
 * - `SECRET_MATERIAL_REJECTED`: a field looks like a credential; it is not stored.
 * - `RECEIPT_INVALID`: the receipt does not verify (raised by the service).
 * - `RECEIPT_NOT_YOURS`: the caller is not the executor the receipt names.
 * - `TARGET_NOT_APPROVED`: the target is not one the warrant approved.
 * - `TARGET_NOT_REDEEMED`: the target is not the one the receipt's redemption named.
 * - `FULFILMENT_DUPLICATE`: a success was already reported for this receipt, target and phase.
 */
export type FulfilmentErrorCode =
  | 'FULFILMENT_INVALID'
  | 'SECRET_MATERIAL_REJECTED'
  | 'RECEIPT_INVALID'
  | 'RECEIPT_NOT_YOURS'
  | 'TARGET_NOT_APPROVED'
  | 'TARGET_NOT_REDEEMED'
  | 'FULFILMENT_DUPLICATE';

export const MAX_DETAIL_LENGTH = 2_000;

export interface FulfilmentInput {
  readonly target: string;
  readonly outcome: FulfilmentOutcome;
  readonly fingerprint?: string | null | undefined;
  readonly detail?: string | null | undefined;
  /** Defaults to `apply`. */
  readonly phase?: FulfilmentPhase | undefined;
}

export interface FulfilmentContext {
  /** The executor the verified receipt names. */
  readonly receiptExecutor: string;
  /** The authenticated principal reporting. */
  readonly caller: string;
  /** The warrant's `targets` claim (possibly empty). */
  readonly warrantTargets: readonly string[];
  /** The target the receipt's redemption named, or undefined for an untargeted one. */
  readonly redeemedTarget: string | undefined;
  readonly now: Date;
  /** The warrant's `notAfter`. */
  readonly windowEnd: Date | string;
}

/** A validated, normalised report, ready to be stamped with ids and stored. */
export interface FulfilmentReport {
  readonly target: string;
  readonly outcome: FulfilmentOutcome;
  readonly phase: FulfilmentPhase;
  readonly fingerprint: string | null;
  readonly detail: string | null;
  /** `now`, as the report's time. */
  readonly at: string;
  /** True when reported at or after the window's end (allowed: reports may lag). */
  readonly afterWindow: boolean;
}

function invalid(message: string, field: string): CountersignError<FulfilmentErrorCode> {
  return new CountersignError('FULFILMENT_INVALID', message, { details: { field } });
}

const isOneOf = <T extends string>(all: readonly T[], v: unknown): v is T =>
  typeof v === 'string' && (all as readonly string[]).includes(v);

const optionalString = (v: unknown): v is string | null | undefined =>
  v === undefined || v === null || typeof v === 'string';

/**
 * Validates an executor's report against its receipt and warrant. Checks run in
 * this order, so each refusal names the first broken rule:
 *
 * 1. the caller is the receipt's executor (`RECEIPT_NOT_YOURS`);
 * 2. field types, phase and outcome (`FULFILMENT_INVALID`);
 * 3. a fingerprint that is not `sha256:` + 64 lowercase hex is `SECRET_MATERIAL_REJECTED`
 *    when it looks like a secret, else `FULFILMENT_INVALID`;
 * 4. no field carries secret material (`SECRET_MATERIAL_REJECTED`, value never echoed);
 * 5. target shape and detail length (`FULFILMENT_INVALID`);
 * 6. a `success` `apply` carries a fingerprint, whatever the action: it is what lets
 *    the reconciler compare the claim with observations (`FULFILMENT_INVALID`);
 * 7. the target is approved: one of the warrant's targets, or {@link UNTARGETED} for a
 *    warrant without targets (`TARGET_NOT_APPROVED`);
 * 8. the target is the one the receipt was redeemed for (or {@link UNTARGETED} for a
 *    redemption that named none), so one redemption fulfils one target
 *    (`TARGET_NOT_REDEEMED`).
 *
 * Reports after the window are accepted and marked `afterWindow`; a `revoke` report
 * before the window ends is an early revocation and is accepted too.
 *
 * @example
 * validateFulfilmentInput(
 *   { target: 'eu', outcome: 'success', fingerprint: `sha256:${'a'.repeat(64)}` },
 *   { receiptExecutor: 'deployer', caller: 'deployer', warrantTargets: ['eu', 'us'],
 *     redeemedTarget: 'eu', now, windowEnd: '2026-03-01T14:00:00Z' },
 * ); // { target: 'eu', phase: 'apply', outcome: 'success', ... }
 */
export function validateFulfilmentInput(
  input: FulfilmentInput,
  ctx: FulfilmentContext,
): FulfilmentReport {
  if (ctx.caller !== ctx.receiptExecutor) {
    throw new CountersignError<FulfilmentErrorCode>(
      'RECEIPT_NOT_YOURS',
      'the receipt names a different executor',
    );
  }
  const raw = input as unknown as Readonly<Record<string, unknown>>;
  if (typeof raw.target !== 'string') throw invalid('target must be a string', 'target');
  if (!isOneOf(FULFILMENT_OUTCOMES, raw.outcome)) {
    throw invalid('outcome must be success or failure', 'outcome');
  }
  if (raw.phase !== undefined && !isOneOf(FULFILMENT_PHASES, raw.phase)) {
    throw invalid('phase must be apply or revoke', 'phase');
  }
  if (!optionalString(raw.fingerprint))
    throw invalid('fingerprint must be a string', 'fingerprint');
  if (!optionalString(raw.detail)) throw invalid('detail must be a string', 'detail');
  const fingerprint = input.fingerprint ?? null;
  if (fingerprint !== null && !isFingerprint(fingerprint)) {
    if (looksLikeSecret(fingerprint) !== null) assertNoSecretMaterial({ fingerprint });
    throw invalid('fingerprint must be sha256: followed by 64 lowercase hex digits', 'fingerprint');
  }
  const detail = input.detail ?? null;
  assertNoSecretMaterial({ target: input.target, detail, fingerprint });
  if (!TARGET_PATTERN.test(input.target)) {
    throw invalid('target must be 1-128 characters of letters, digits and ._:@/+=-', 'target');
  }
  if (detail !== null && detail.length > MAX_DETAIL_LENGTH) {
    throw invalid(`detail must be at most ${MAX_DETAIL_LENGTH} characters`, 'detail');
  }
  const phase = input.phase ?? 'apply';
  if (input.outcome === 'success' && phase === 'apply' && fingerprint === null) {
    throw invalid('a successful apply must report the fingerprint of the result', 'fingerprint');
  }
  if (!approvedTargets(ctx.warrantTargets).includes(input.target)) {
    throw new CountersignError<FulfilmentErrorCode>(
      'TARGET_NOT_APPROVED',
      `target ${input.target} is not approved by the warrant`,
      { details: { target: input.target } },
    );
  }
  if ((ctx.redeemedTarget ?? UNTARGETED) !== input.target) {
    throw new CountersignError<FulfilmentErrorCode>(
      'TARGET_NOT_REDEEMED',
      `the receipt was redeemed for another target than ${input.target}`,
      { details: { target: input.target } },
    );
  }
  const windowEnd = new Date(ctx.windowEnd).getTime();
  return {
    target: input.target,
    outcome: input.outcome,
    phase,
    fingerprint,
    detail,
    at: ctx.now.toISOString(),
    afterWindow: ctx.now.getTime() >= windowEnd,
  };
}

/** What makes two reports the same report: one receipt, one target, one phase. */
export function fulfilmentKey(f: {
  readonly receiptId: string;
  readonly target: string;
  readonly phase: FulfilmentPhase;
}): string {
  return `${f.receiptId}|${f.target}|${f.phase}`;
}

/**
 * Throws `FULFILMENT_DUPLICATE` when `prior` already holds a success with the same
 * {@link fulfilmentKey}. A failure may be followed by a retry; a success is final.
 */
export function assertNotDuplicate(
  prior: readonly {
    readonly receiptId: string;
    readonly target: string;
    readonly phase: FulfilmentPhase;
    readonly outcome: FulfilmentOutcome;
  }[],
  next: { readonly receiptId: string; readonly target: string; readonly phase: FulfilmentPhase },
): void {
  const key = fulfilmentKey(next);
  if (prior.some((p) => p.outcome === 'success' && fulfilmentKey(p) === key)) {
    throw new CountersignError<FulfilmentErrorCode>(
      'FULFILMENT_DUPLICATE',
      `a successful ${next.phase} was already reported for target ${next.target} on this receipt`,
      { details: { target: next.target, phase: next.phase } },
    );
  }
}
