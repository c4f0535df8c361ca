import { createHash } from 'node:crypto';
import type { DevPrincipal, TestServer } from './server.js';

/** A `sha256:` fingerprint of a label, standing in for a secret version's digest. */
export const fp = (label: string): string =>
  `sha256:${createHash('sha256').update(label).digest('hex')}`;

/** Redeems and returns the receipt JWS, failing loudly otherwise. */
export async function receiptFor(
  s: TestServer,
  token: string,
  action: { resource: string; permission: string; environment: string; target?: string },
  as: DevPrincipal = 'deploy-eu',
): Promise<string> {
  const r = await s.http('POST', '/v1/redemptions', { as, body: { warrant: token, action } });
  if (r.status !== 200) throw new Error(`redeem: ${r.text}`);
  return (r.body as { receipt: string }).receipt;
}

export async function fulfil(
  s: TestServer,
  body: { receipt: string; target: string; outcome: string; fingerprint?: string; phase?: string },
  as: DevPrincipal = 'deploy-eu',
) {
  return s.http('POST', '/v1/fulfilments', { as, body });
}

export async function observe(
  s: TestServer,
  observations: Array<{
    subject: string;
    target: string;
    observedAt: string;
    fact: Record<string, unknown>;
  }>,
) {
  return s.http('POST', '/v1/observations', {
    as: 'collector' as DevPrincipal,
    body: { observations },
  });
}

export async function reconcileNow(s: TestServer) {
  const r = await s.http('POST', '/v1/reconcile', { as: 'admin' });
  if (r.status !== 200) throw new Error(`reconcile: ${r.text}`);
  return r.body as { raised: number; resolved: number };
}

export interface FindingJson {
  id: string;
  kind: string;
  state: string;
  requestId: string | null;
  subject: string;
  target: string | null;
  raisedAt: string;
  /** Log indices of the events the finding rests on, by role. */
  evidence: Record<'warrants' | 'redemptions' | 'fulfilments' | 'observations', number[]>;
  logIndices: number[];
  resolution: { automatic: boolean; reason: string } | null;
}

export async function findingsOf(s: TestServer, subject: string): Promise<FindingJson[]> {
  const r = await s.http('GET', '/v1/findings', { as: 'audra' });
  return (r.body as { findings: FindingJson[] }).findings.filter((f) => f.subject === subject);
}
