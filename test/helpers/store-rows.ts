import type { NhiId, PrincipalId, RequestId, WarrantId } from '../../src/core/ids.js';
import { encodeEvent } from '../../src/log/event.js';
import type { Nhi } from '../../src/nhi/nhi.js';
import type { RequestBody, RequestRecord } from '../../src/request/request.js';
import type { TxPorts } from '../../src/service/ports/store.js';
import type { WarrantRecord } from '../../src/warrant/warrant.js';

/** Rows written straight into a store, for tests of the store itself. */
export const nhi: Nhi = {
  id: 'svc:store-test' as NhiId,
  kind: 'service_account',
  owner: 'team',
  description: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'admin',
};

export function request(id: string): RequestRecord {
  return {
    id: id as RequestId,
    body: {
      requester: 'alice' as PrincipalId,
      subject: nhi.id,
      environment: 'prod',
      createdAt: '2026-01-01T00:00:00.000Z',
      pendingExpiresAt: '2026-01-02T00:00:00.000Z',
    } as unknown as RequestBody,
    state: 'pending',
    warrantId: null,
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

export function warrant(id: string, requestId: string, maxUses: number): WarrantRecord {
  return {
    id: id as WarrantId,
    requestId: requestId as RequestId,
    kid: 'k1',
    token: 'header.payload.sig',
    claims: {} as WarrantRecord['claims'],
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2026-01-01T08:00:00.000Z',
    uses: 0,
    maxUses,
    state: 'active',
    issuedAt: '2026-01-01T00:00:00.000Z',
    revokedAt: null,
    revokedBy: null,
    revokeReason: null,
  };
}

/** A `finding.raised` event appended in `tx`, for findings inserted by hand to cite: its id. */
export function appendRaisedEvent(tx: TxPorts, at: string): Promise<number> {
  return tx.log.append(
    encodeEvent({ v: 1, type: 'finding.raised', at, actor: 'countersign', links: {}, data: {} }),
  );
}
