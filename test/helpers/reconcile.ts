import { issueWarrant, type ChainOptions } from './chain.js';
import type { TestServer } from './server.js';

/** The subject of a request, as an auditor reads it. */
export async function subjectOf(s: TestServer, requestId: string): Promise<string> {
  const r = await s.http('GET', `/v1/requests/${requestId}`, { as: 'audra' });
  return (r.body as { body: { subject: string } }).body.subject;
}

/**
 * Issues a warrant to rotate secrets/`secret` once on each of `targets` (through
 * {@link issueWarrant}, so in staging) and returns it with the request's subject.
 */
export async function issueRotation(
  s: TestServer,
  secret: string,
  targets: string[],
  over: ChainOptions = {},
) {
  const w = await issueWarrant(s, {
    action: 'rotate',
    scope: [{ resource: `secrets/${secret}`, permissions: ['rotate'] }],
    targets,
    maxUses: targets.length,
    ...over,
  });
  return { ...w, subject: await subjectOf(s, w.requestId) };
}

export async function reconcileNow(s: TestServer) {
  const r = await s.http('POST', '/v1/reconcile', { as: 'admin' });
  if (r.status !== 200) throw new Error(`reconcile: ${r.text}`);
  return r.body as { raised: number; reopened: number; resolved: number };
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
  detail: string;
  resolution: { automatic: boolean; reason: string } | null;
}

export async function findingsOf(s: TestServer, subject: string): Promise<FindingJson[]> {
  const r = await s.http('GET', '/v1/findings', { as: 'audra' });
  return (r.body as { findings: FindingJson[] }).findings.filter((f) => f.subject === subject);
}
