import type { CoreErrorCode } from '../core/errors.js';
import type { ToolBindingErrorCode } from '../core/tool-binding.js';
import type { VocabularyErrorCode } from '../core/vocabulary.js';
import type { IdentityTokenErrorCode } from '../identity/oidc/errors.js';
import type { IdentityErrorCode } from '../identity/principal.js';
import type { KeyErrorCode } from '../keys/seal.js';
import type { LogErrorCode } from '../log/errors.js';
import type { EvidenceErrorCode } from '../evidence/errors.js';
import type { FulfilmentErrorCode } from '../fulfilment/fulfilment.js';
import type { ObservationErrorCode } from '../observation/observation.js';
import type { FindingErrorCode } from '../reconcile/finding.js';
import type { FindingsErrorCode } from '../service/findings.js';
import type { ObserveErrorCode } from '../service/observe.js';
import type { RedeemErrorCode } from '../service/redeem.js';
import type { NhiErrorCode } from '../nhi/nhi.js';
import type { PolicyErrorCode } from '../policy/policy.js';
import type { RedemptionDenialCode } from '../redemption/redemption.js';
import type { RequestErrorCode } from '../request/request.js';
import type { ServiceErrorCode } from '../service/context.js';
import type { WarrantErrorCode } from '../warrant/warrant.js';
import type { SignInErrorCode } from '../identity/oidc/login.js';
import type { ConsoleErrorCode } from './console/guard.js';
import { redactedText } from './log-redact.js';

/** Codes raised by the HTTP edge itself. */
export type HttpErrorCode =
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BODY_TOO_LARGE'
  | 'HEADERS_TOO_LARGE'
  | 'MALFORMED_HTTP'
  | 'EXPECTATION_FAILED'
  | 'REQUEST_TIMEOUT'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNSUPPORTED_CONTENT_ENCODING'
  | 'OVERLOADED'
  | 'NOT_READY'
  | 'INTERNAL';

/** Every code the API can answer with. The map below must cover each one. */
export type ErrorCode =
  | CoreErrorCode
  | VocabularyErrorCode
  | ToolBindingErrorCode
  | NhiErrorCode
  | RequestErrorCode
  | PolicyErrorCode
  | WarrantErrorCode
  | RedemptionDenialCode
  | KeyErrorCode
  | IdentityErrorCode
  | IdentityTokenErrorCode
  | ServiceErrorCode
  | LogErrorCode
  | EvidenceErrorCode
  | FulfilmentErrorCode
  | ObservationErrorCode
  | ObserveErrorCode
  | RedeemErrorCode
  | FindingErrorCode
  | FindingsErrorCode
  | SignInErrorCode
  | ConsoleErrorCode
  | HttpErrorCode;

/** The one place where codes become HTTP statuses. */
export const STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_JSON: 400,
  DUPLICATE_JSON_KEY: 400,
  JSON_TOO_DEEP: 400,
  LONE_SURROGATE: 400,
  NUL_CHARACTER: 400,
  INVALID_UTF8: 400,
  NON_CANONICAL_VALUE: 400,
  VALIDATION_FAILED: 400,
  INVALID_SCOPE: 400,
  INVALID_TOOL_BINDING: 400,
  CONNECTOR_UNKNOWN: 400,
  INVALID_NHI_ID: 400,
  FULFILMENT_INVALID: 400,
  OBSERVATION_INVALID: 400,
  OBSERVATION_DUPLICATE: 400,
  REQUEST_WINDOW_INVALID: 400,
  EXECUTOR_BINDING_INVALID: 400,
  LOG_RANGE_INVALID: 400,
  NOTE_INVALID: 400,
  NOTE_SIGNATURE_INVALID: 400,
  CHECKPOINT_INVALID: 400,
  REDEMPTION_MALFORMED: 400,
  UNAUTHENTICATED: 401,
  TOKEN_MALFORMED: 401,
  TOKEN_ISSUER_UNTRUSTED: 401,
  TOKEN_ALG_REJECTED: 401,
  TOKEN_SIGNATURE_INVALID: 401,
  TOKEN_KEY_UNKNOWN: 401,
  TOKEN_AUDIENCE_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_NOT_YET_VALID: 401,
  TOKEN_ISSUER_INVALID: 401,
  TOKEN_CLAIM_INVALID: 401,
  TOKEN_REPLAYED: 401,
  AUTH_TOO_OLD: 401,
  SIGN_IN_FAILED: 401,
  FORBIDDEN: 403,
  CSRF_REFUSED: 403,
  NOT_REQUESTER: 403,
  SEPARATION_OF_DUTIES: 403,
  NOT_IN_APPROVER_GROUP: 403,
  SIGNATURE_INVALID: 403,
  KEY_REVOKED: 403,
  RECEIPT_INVALID: 403,
  RECEIPT_NOT_YOURS: 403,
  WARRANT_UNKNOWN: 403,
  WARRANT_REVOKED: 403,
  WARRANT_NOT_YET_VALID: 403,
  WARRANT_EXPIRED: 403,
  EXECUTOR_MISMATCH: 403,
  ENVIRONMENT_MISMATCH: 403,
  SCOPE_EXCEEDED: 403,
  TOOL_MISMATCH: 403,
  ARGUMENTS_MISMATCH: 403,
  CONNECTOR_FAILED: 502,
  TARGET_UNKNOWN: 403,
  WARRANT_EXHAUSTED: 403,
  NOT_FOUND: 404,
  CONSOLE_NOT_BUILT: 404,
  NHI_UNKNOWN: 404,
  REQUEST_UNKNOWN: 404,
  WARRANT_NOT_ISSUED: 404,
  WARRANT_NOT_FOUND: 404,
  FINDING_UNKNOWN: 404,
  LOG_EMPTY: 404,
  KEY_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NHI_EXISTS: 409,
  NHI_CONFUSABLE: 409,
  REQUEST_NOT_PENDING: 409,
  REQUEST_EXPIRED: 409,
  DUPLICATE_APPROVER: 409,
  WARRANT_ALREADY_REVOKED: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  FULFILMENT_DUPLICATE: 409,
  OBSERVATION_OUT_OF_ORDER: 409,
  FINDING_TRANSITION_INVALID: 409,
  KEY_ALREADY_REVOKED: 409,
  BODY_TOO_LARGE: 413,
  HEADERS_TOO_LARGE: 431,
  MALFORMED_HTTP: 400,
  EXPECTATION_FAILED: 417,
  REQUEST_TIMEOUT: 408,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ENVIRONMENT_UNKNOWN: 422,
  UNSUPPORTED_CONTENT_ENCODING: 415,
  NO_MATCHING_POLICY: 422,
  SCOPE_SPANS_RULES: 422,
  POLICY_LIMIT_EXCEEDED: 422,
  SECRET_MATERIAL_REJECTED: 422,
  TARGET_NOT_APPROVED: 422,
  TARGET_NOT_REDEEMED: 422,
  INTERNAL: 500,
  REQUEST_TAMPERED: 500,
  POLICY_INVALID: 500,
  KEK_MISSING: 500,
  KEK_INVALID: 500,
  KEY_UNSEAL_FAILED: 500,
  KEY_UNKNOWN: 500,
  LOG_INCONSISTENT: 500,
  EVIDENCE_INPUT_INVALID: 500,
  OVERLOADED: 503,
  NOT_READY: 503,
  ISSUER_DISCOVERY_FAILED: 503,
  JWKS_UNAVAILABLE: 503,
  REPLAY_CACHE_FULL: 503,
};

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(STATUS, code);
}

/** An RFC 9457 problem details body, with countersign's stable `code`. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

export function problem(
  code: ErrorCode,
  detail: string,
  instance?: string,
  details?: Readonly<Record<string, unknown>>,
): Problem {
  return {
    ...(details === undefined ? {} : redactedStrings(details)),
    type: `urn:countersign:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title: code
      .toLowerCase()
      .split('_')
      .map((w, i) => (i === 0 ? w[0]?.toUpperCase() + w.slice(1) : w))
      .join(' '),
    status: STATUS[code],
    code,
    detail: redactedText(detail),
    ...(instance === undefined ? {} : { instance }),
  };
}

/**
 * `details` with credential-shaped strings replaced: a message or a detail field may
 * repeat what the client sent (an id that was in fact a token), and none is echoed.
 */
function redactedStrings(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(details).map(([k, v]) => [k, typeof v === 'string' ? redactedText(v) : v]),
  );
}
