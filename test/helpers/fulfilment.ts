import { createHash } from 'node:crypto';
import { expect } from 'vitest';
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

/** Fulfils and expects the report to be recorded (201). */
export async function fulfilOk(s: TestServer, body: Parameters<typeof fulfil>[1]): Promise<void> {
  const r = await fulfil(s, body);
  expect(r.status, r.text).toBe(201);
}
