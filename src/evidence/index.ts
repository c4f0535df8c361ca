/**
 * Evidence bundles: export one request's approval chain with its log proofs and an
 * in-toto attestation, and verify it offline.
 *
 * @example
 * ```ts
 * import { renderCustody, verifyBundle } from './evidence/index.js';
 * const report = await verifyBundle(bytes, { logVerifierKey, jwks });
 * console.log(renderCustody(report));
 * ```
 */
export { buildBundle, EVIDENCE_MEDIA_TYPE } from './bundle.js';
export type { BundleInput, EvidenceBundle, EvidenceEntry } from './bundle.js';
export { EMPTY_CUSTODY } from './chain.js';
export { custodyOf, FULFILMENT_SUCCESS_OUTCOMES } from './custody.js';
export { renderCustody } from './render.js';
export type * from './chain.js';
export { CONNECTOR_CALL_PAYLOAD_TYPE, verifyConnectorCall } from './connector-call.js';
export type {
  ConnectorCall,
  ConnectorCallErrorCode,
  ConnectorCallInvalidReason,
  VerifyConnectorCallOptions,
} from './connector-call.js';
export { envelopePayload, preAuthEncoding, signEnvelope, verifyEnvelope } from './dsse.js';
export type { DsseEnvelope, DsseSignature, DsseSigner } from './dsse.js';
export { EVIDENCE_CHECK_CODES, EvidenceError } from './errors.js';
export type { EvidenceCheckCode, EvidenceErrorCode } from './errors.js';
export type { EvidenceEvent } from './read.js';
export { parseEvent } from './read.js';
export { citingFindingIndices } from './related.js';
export {
  approvalChainPredicate,
  approvalChainStatement,
  IN_TOTO_PAYLOAD_TYPE,
  PREDICATE_TYPE,
  STATEMENT_TYPE,
  statementBytes,
} from './statement.js';
export type {
  ApprovalChainPredicate,
  PredicateInput,
  Statement,
  StatementSubject,
} from './statement.js';
export { verifyBundle } from './verify.js';
export type {
  TrustAnchors,
  TrustMode,
  VerificationCheck,
  VerificationReport,
  VerifyOptions,
} from './verify.js';
