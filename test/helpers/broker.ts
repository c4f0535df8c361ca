import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { ADMIN_PASSWORD, type PgFixture } from '../connectors/pg-fixture.js';
import { approve, registerAgent } from './mcp-gating.js';
import type { TestServer } from './server.js';

/** A server config with the fixture's database as connector `appdb`, and the env it reads. */
export function brokerConfig(
  fx: PgFixture,
  over: Record<string, unknown> = {},
): { config: Record<string, unknown>; env: Record<string, string> } {
  return {
    config: {
      connectors: [
        {
          name: 'appdb',
          kind: 'postgres',
          urlEnv: 'APPDB_ADMIN_URL',
          database: fx.database,
          protectedTables: ['public.customers'],
        },
      ],
      revocationInterval: '1s',
      ...over,
    },
    env: { APPDB_ADMIN_URL: fx.url('broker', ADMIN_PASSWORD) },
  };
}

/** The one action every brokered test redeems: read on orders, at the connector's target. */
export const BROKERED_ACTION = {
  resource: 'pg/appdb/public/orders',
  permission: 'read',
  environment: 'staging',
  target: 'appdb',
};

export interface BrokeredWarrant {
  readonly requestId: string;
  readonly token: string;
  readonly warrantId: string;
  readonly subject: string;
}

/** An approved brokered grant of read on orders and invoices for a fresh agent. */
export async function brokeredWarrant(s: TestServer): Promise<BrokeredWarrant> {
  const subject = await registerAgent(s);
  const r = await s.http('POST', '/v1/requests', {
    as: 'alice',
    body: {
      subject,
      action: 'grant',
      connector: 'appdb',
      scope: [
        { resource: 'pg/appdb/public/orders', permissions: ['read'] },
        { resource: 'pg/appdb/public/invoices', permissions: ['read'] },
      ],
      environment: 'staging',
      executor: { principal: 'deploy-eu' },
      duration: '2h',
      reason: 'the agent reconciles orders against invoices',
    },
  });
  expect(r.status, r.text).toBe(201);
  const requestId = (r.body as { id: string }).id;
  await approve(s, requestId, ['bob']);
  const w = await s.http('GET', `/v1/requests/${requestId}/warrant`, { as: 'deploy-eu' });
  const { token, warrantId } = w.body as { token: string; warrantId: string };
  return { requestId, token, warrantId, subject };
}

/** Redeems once over HTTP and returns the credential. */
export async function mintedCredential(
  s: TestServer,
  token: string,
): Promise<Record<string, string>> {
  const r = await s.http('POST', '/v1/redemptions', {
    as: 'deploy-eu',
    body: { warrant: token, action: BROKERED_ACTION },
  });
  expect(r.status, r.text).toBe(200);
  return (r.body as { credential: Record<string, string> }).credential;
}

/** Polls `check` every 200 ms for up to 20 s. */
export async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}
