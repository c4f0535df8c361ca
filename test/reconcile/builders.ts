import { sha256Hex } from '../../src/core/crypto.js';
import type { NhiId, PrincipalId, ReceiptId, RequestId, WarrantId } from '../../src/core/ids.js';
import type { Fulfilment, FulfilmentId } from '../../src/fulfilment/fulfilment.js';
import type {
  Observation,
  ObservationId,
  ObservedFact,
} from '../../src/observation/observation.js';
import type { ApprovedGrant, DenialRecord } from '../../src/reconcile/input.js';
import { HOUR, iso, MINUTE } from './time.js';

/** A deterministic `sha256:` fingerprint named by `label`. */
export const fp = (label: string): string => `sha256:${sha256Hex(label)}`;

export const requestIdOf = (warrantId: string): RequestId =>
  `sha256:${sha256Hex(`request:${warrantId}`)}` as RequestId;

export function grant(over: Partial<ApprovedGrant> & { warrantId: string }): ApprovedGrant {
  return {
    requestId: requestIdOf(over.warrantId),
    subject: 'svc:payments-api',
    action: 'grant',
    scope: [{ resource: 'db/orders', permissions: ['read'] }],
    environment: 'prod',
    targets: ['eu'],
    notBefore: iso(0),
    notAfter: iso(HOUR),
    revokedAt: null,
    ...over,
  };
}

type FulfilmentSpec = Partial<Omit<Fulfilment, 'id' | 'warrantId' | 'subject' | 'at'>> & {
  id: string;
  warrantId: string;
  target: string;
  subject?: string;
  /** ms after T0; default 10 minutes. */
  atMs?: number;
};

export function fulfilment(spec: FulfilmentSpec): Fulfilment {
  const { id, warrantId, subject, atMs, ...rest } = spec;
  return {
    id: id as FulfilmentId,
    requestId: requestIdOf(warrantId),
    warrantId: warrantId as WarrantId,
    receiptId: `rcp_${warrantId}` as ReceiptId,
    executor: 'deployer' as PrincipalId,
    subject: (subject ?? 'svc:payments-api') as NhiId,
    phase: 'apply',
    outcome: 'success',
    fingerprint: null,
    detail: null,
    at: iso(atMs ?? 10 * MINUTE),
    ...rest,
  };
}

export function observation(
  id: string,
  subject: string,
  target: string,
  observedAtMs: number,
  fact: ObservedFact,
): Observation {
  return {
    id: id as ObservationId,
    observer: 'collector' as PrincipalId,
    subject: subject as NhiId,
    target,
    observedAt: iso(observedAtMs),
    fact,
    receivedAt: iso(observedAtMs + 1_000),
  };
}

export const version = (fingerprint: string): ObservedFact => ({
  kind: 'secret_version',
  fingerprint,
});

export const held = (resource: string, permission: string, present = true): ObservedFact => ({
  kind: 'grant',
  resource,
  permission,
  present,
});

export function denial(
  id: string,
  warrantId: string,
  atMs: number,
  code = 'SCOPE_EXCEEDED',
): DenialRecord {
  return { id, warrantId, requestId: null, code, executor: 'intruder', at: iso(atMs) };
}
