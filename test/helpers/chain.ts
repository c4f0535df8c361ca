import type { DevPrincipal, TestServer } from './server.js';

let counter = 0;

/** A fresh NHI id per call, so tests sharing a server never collide. */
export function uniqueNhi(prefix = 'agent'): string {
  counter += 1;
  return `${prefix}:test-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface ChainOptions {
  readonly env?: string;
  readonly scope?: Array<{ resource: string; permissions: string[] }>;
  readonly executor?: DevPrincipal;
  /** The request's `executor` as sent, e.g. a workload claim matcher; overrides `executor`. */
  readonly executorBinding?: Record<string, unknown>;
  readonly maxUses?: number;
  readonly duration?: string;
  readonly targets?: string[];
  readonly requester?: DevPrincipal;
  /** Create the request with this bearer credential (e.g. an OIDC token) instead. */
  readonly bearer?: string;
  readonly action?: string;
}

/** Registers an NHI and creates a request for it over HTTP; returns the request id. */
export async function createRequest(
  s: Pick<TestServer, 'http'>,
  o: ChainOptions = {},
): Promise<string> {
  const subject = uniqueNhi();
  const nhi = await s.http('POST', '/v1/nhis', {
    as: 'admin',
    body: { id: subject, kind: 'ai_agent', owner: 'team-data' },
  });
  if (nhi.status !== 201) throw new Error(`nhi: ${nhi.text}`);
  const r = await s.http('POST', '/v1/requests', {
    ...(o.bearer === undefined ? { as: o.requester ?? 'alice' } : { bearer: o.bearer }),
    body: {
      subject,
      action: o.action ?? 'grant',
      scope: o.scope ?? [{ resource: 'db/orders', permissions: ['read'] }],
      environment: o.env ?? 'staging',
      targets: o.targets ?? [],
      executor: o.executorBinding ?? { principal: o.executor ?? 'deploy-eu' },
      duration: o.duration ?? '2h',
      maxUses: o.maxUses ?? 1,
      reason: 'test',
    },
  });
  if (r.status !== 201) throw new Error(`request: ${r.text}`);
  return (r.body as { id: string }).id;
}

/** Creates a request and approves it with enough approvers; returns ids and the warrant. */
export async function issueWarrant(
  s: TestServer,
  o: ChainOptions = {},
): Promise<{ requestId: string; warrantId: string; token: string }> {
  const requestId = await createRequest(s, o);
  const approvers: DevPrincipal[] = o.env === 'prod' ? ['bob', 'carol'] : ['bob'];
  for (const a of approvers) {
    const d = await s.http('POST', `/v1/requests/${requestId}/decisions`, {
      as: a,
      body: { decision: 'approve', reason: 'ok' },
    });
    if (d.status !== 201) throw new Error(`decision: ${d.text}`);
  }
  const w = await s.http('GET', `/v1/requests/${requestId}/warrant`, { as: 'admin' });
  if (w.status !== 200) throw new Error(`warrant: ${w.text}`);
  const body = w.body as { warrantId: string; token: string };
  return { requestId, warrantId: body.warrantId, token: body.token };
}

/** A redemption action in staging: db/orders read on `target` unless told otherwise. */
export const stagingAction = (target: string, resource = 'db/orders', permission = 'read') => ({
  resource,
  permission,
  environment: 'staging',
  target,
});

/** The action of a rotation of secrets/`secret` on `target`. */
export const rotateAction = (secret: string, target: string) =>
  stagingAction(target, `secrets/${secret}`, 'rotate');
