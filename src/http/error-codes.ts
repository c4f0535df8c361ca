import { STATUS, type ErrorCode } from './problem.js';

/**
 * What each code the API answers with means, in one line: with the code unions and
 * {@link STATUS}, the single source of the README's error table (`npm run docs` writes
 * it; a unit test fails when the two differ). A new code does not compile without a line here.
 */
export const MEANING: Readonly<Record<ErrorCode, string>> = {
  INVALID_JSON: 'the body is not JSON, is empty, or holds a number JSON cannot represent',
  DUPLICATE_JSON_KEY: 'an object in the body repeats a key',
  JSON_TOO_DEEP: 'the body nests more than 64 levels',
  LONE_SURROGATE: 'a string or key escapes half of a UTF-16 surrogate pair (`"\\ud800"`)',
  NUL_CHARACTER:
    'a string, key, path or query parameter holds U+0000, which no store keeps as text',
  INVALID_UTF8: 'the body is not well-formed UTF-8',
  NON_CANONICAL_VALUE: 'a value has no RFC 8785 canonical form, so no digest can cover it',
  VALIDATION_FAILED: 'the body, path or query does not fit the schema',
  INVALID_SCOPE: 'a scope entry is malformed (resource, permission or argument constraint)',
  CONNECTOR_UNKNOWN:
    'a brokered grant names an unconfigured connector, a scope or target not its own, or a scope it can never grant',
  INVALID_TOOL_BINDING:
    'a tool_call request names no tool, or its disclosed arguments are too large or do not hash to its argument digest',
  INVALID_NHI_ID: 'an NHI id is not `prefix:name`',
  REQUEST_WINDOW_INVALID: 'the window is malformed, starts in the past, or is empty',
  EXECUTOR_BINDING_INVALID: 'a claim binding names an untrusted issuer or no identifying claim',
  FULFILMENT_INVALID: 'a fulfilment report field is malformed',
  OBSERVATION_INVALID: 'an observation field is malformed, or observed in the future',
  OBSERVATION_DUPLICATE: 'the batch holds the same observation twice',
  LOG_RANGE_INVALID: 'a log range, index or tree size lies outside the signed tree',
  NOTE_INVALID: 'a signed note or note key is malformed',
  NOTE_SIGNATURE_INVALID: 'a signed note carries a signature that does not verify',
  CHECKPOINT_INVALID: 'a checkpoint is malformed',
  REDEMPTION_MALFORMED:
    'recorded, never answered: a redemption refused before it was checked (the answer has its own code)',
  UNAUTHENTICATED: 'no valid bearer token or console session',
  TOKEN_MALFORMED: 'the identity token is not a signed JWT',
  TOKEN_ISSUER_UNTRUSTED: 'the identity token comes from no trusted issuer',
  TOKEN_ALG_REJECTED: "the identity token's algorithm is not allowed for its issuer",
  TOKEN_SIGNATURE_INVALID: "the identity token's signature does not verify",
  TOKEN_KEY_UNKNOWN: "the issuer publishes no key for the identity token's `kid`",
  TOKEN_AUDIENCE_INVALID: 'the identity token is not for this service (`aud`, `azp`)',
  TOKEN_EXPIRED: 'the identity token has expired',
  TOKEN_NOT_YET_VALID: 'the identity token is not valid yet (`nbf`, `iat`)',
  TOKEN_ISSUER_INVALID: "the identity token's `iss` is missing or malformed",
  TOKEN_CLAIM_INVALID: 'a claim the issuer requires is missing or wrong',
  TOKEN_REPLAYED: 'the identity token was already spent at a redemption',
  AUTH_TOO_OLD: 'the sign-in (`auth_time`) is too old to approve or deny',
  SIGN_IN_FAILED:
    'the console sign-in at an issuer failed (unknown or stale state, refused code, wrong nonce, no fresh sign-in)',
  FORBIDDEN: "the caller's roles do not allow the operation",
  CSRF_REFUSED:
    'a console call is not same-origin, lacks `X-Countersign-Console: 1`, or names another host (DNS rebinding)',
  NOT_REQUESTER: 'only the requester may do this',
  SEPARATION_OF_DUTIES: 'the approver may not decide on this request (own request, or owner)',
  NOT_IN_APPROVER_GROUP: "the approver is in none of the policy rule's groups",
  SIGNATURE_INVALID: 'redemption: the warrant signature does not verify',
  KEY_REVOKED: 'redemption: the warrant was signed by a revoked key',
  WARRANT_UNKNOWN: 'redemption: this server issued no such warrant',
  WARRANT_REVOKED: 'redemption: the warrant was revoked',
  WARRANT_NOT_YET_VALID: "redemption: the warrant's window has not opened",
  WARRANT_EXPIRED: "redemption: the warrant's window has closed",
  EXECUTOR_MISMATCH: 'redemption: the caller is not the executor the warrant binds',
  ENVIRONMENT_MISMATCH: 'redemption: the warrant is for another environment',
  SCOPE_EXCEEDED: 'redemption: the action lies outside the approved scope',
  TOOL_MISMATCH:
    'redemption: the warrant approves another tool, or a tool call where none is named',
  CONNECTOR_FAILED:
    'redemption: the connector could not mint the credential (recorded; no use was spent)',
  ARGUMENTS_MISMATCH: "redemption: the tool call's arguments differ from those approved",
  TARGET_UNKNOWN: 'redemption: the action names no approved target',
  WARRANT_EXHAUSTED: 'redemption: every approved use is spent',
  RECEIPT_INVALID: 'the receipt does not verify as one of this server',
  RECEIPT_NOT_YOURS: 'the receipt names another executor',
  NOT_FOUND: 'no such route',
  CONSOLE_NOT_BUILT: 'the console is not built into this package (`npm run build`)',
  NHI_UNKNOWN: 'no such NHI',
  REQUEST_UNKNOWN: 'no such request',
  WARRANT_NOT_ISSUED: 'the request has no warrant (yet)',
  WARRANT_NOT_FOUND: 'no such warrant',
  FINDING_UNKNOWN: 'no such finding',
  LOG_EMPTY: 'no checkpoint has been signed yet',
  KEY_NOT_FOUND: 'no signing key has this `kid`',
  METHOD_NOT_ALLOWED: 'the route does not take this method',
  NHI_EXISTS: 'the NHI is already registered',
  NHI_CONFUSABLE: 'the NHI id differs from a registered one only by case or a look-alike character',
  REQUEST_NOT_PENDING: 'the request is no longer pending',
  REQUEST_EXPIRED: 'the request expired before a decision or a withdrawal',
  DUPLICATE_APPROVER: 'this approver has already decided on the request',
  WARRANT_ALREADY_REVOKED: 'the warrant is already revoked',
  IDEMPOTENCY_KEY_REUSED:
    'a redemption retried with this idempotency key named another warrant or action',
  FULFILMENT_DUPLICATE: 'a successful fulfilment was already reported for this target and phase',
  OBSERVATION_OUT_OF_ORDER: 'older than the latest observation of the same fact',
  FINDING_TRANSITION_INVALID: 'the finding is not in a state that allows this',
  KEY_ALREADY_REVOKED: 'the key is already revoked',
  BODY_TOO_LARGE: 'the body is over the limit (64 KiB by default)',
  HEADERS_TOO_LARGE: 'refused by the HTTP parser: headers over its limit; the connection is closed',
  MALFORMED_HTTP: 'refused by the HTTP parser: not HTTP; the connection is closed',
  EXPECTATION_FAILED: 'an `Expect` header other than `100-continue`; the connection is closed',
  REQUEST_TIMEOUT:
    'refused by the HTTP parser: the request came too slowly; the connection is closed',
  UNSUPPORTED_MEDIA_TYPE: 'the body is not `application/json`',
  UNSUPPORTED_CONTENT_ENCODING:
    'the body has a content coding (send it without `Content-Encoding`)',
  NO_MATCHING_POLICY: 'no policy rule matches the request',
  SCOPE_SPANS_RULES:
    'the scope falls under more than one policy rule: request each part separately',
  ENVIRONMENT_UNKNOWN: 'the environment is not declared by the policy',
  POLICY_LIMIT_EXCEEDED: 'the request asks for more than the matching rule allows (window, uses)',
  SECRET_MATERIAL_REJECTED: 'a field looks like a credential; nothing is stored',
  TARGET_NOT_APPROVED: 'the fulfilment names a target the warrant does not approve',
  TARGET_NOT_REDEEMED: 'the fulfilment names another target than the receipt was redeemed for',
  INTERNAL: 'server-side failure',
  REQUEST_TAMPERED: 'a stored request no longer matches its digest',
  POLICY_INVALID: 'the policy file is invalid',
  KEK_MISSING: 'no key-encryption key is configured',
  KEK_INVALID: 'the key-encryption key is not 32 bytes',
  KEY_UNSEAL_FAILED: 'a stored signing key cannot be unsealed with the key-encryption key',
  KEY_UNKNOWN: 'the key ring has no active signing key',
  LOG_INCONSISTENT: 'the stored log does not hash to its checkpoints',
  EVIDENCE_INPUT_INVALID: 'the stored records of a request cannot make an evidence bundle',
  OVERLOADED: 'the server sheds load; retry after `Retry-After`',
  NOT_READY: 'the database is unreachable (`GET /readyz`)',
  ISSUER_DISCOVERY_FAILED: "an identity provider's discovery document cannot be fetched",
  JWKS_UNAVAILABLE: "an identity provider's keys cannot be fetched",
  REPLAY_CACHE_FULL: 'the in-memory replay guard is full of unexpired tokens',
};

/** One row of the error table: the code, its HTTP status and what it means. */
export interface ErrorRow {
  readonly code: ErrorCode;
  readonly status: number;
  readonly meaning: string;
}

/** Every code, by HTTP status, and within a status in the order of {@link MEANING}. */
export function errorRows(): ErrorRow[] {
  return (Object.keys(MEANING) as ErrorCode[])
    .map((code) => ({ code, status: STATUS[code], meaning: MEANING[code] }))
    .sort((a, b) => a.status - b.status);
}

/** The README's error table in Markdown (Prettier aligns it when `npm run docs` writes it). */
export function errorTableMarkdown(): string {
  const escape = (text: string): string => text.replaceAll('|', '\\|');
  return [
    '| code | status | meaning |',
    '| --- | --- | --- |',
    ...errorRows().map((r) => `| \`${r.code}\` | ${r.status} | ${escape(r.meaning)} |`),
  ].join('\n');
}
