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

export interface WarrantOptions {
  /** Tables of `appdb`'s public schema granted read (default orders and invoices). */
  readonly tables?: readonly string[];
  readonly maxUses?: number;
  readonly duration?: string;
}

/** An approved brokered grant of read on `tables` for a fresh agent. */
export async function brokeredWarrant(
  s: TestServer,
  o: WarrantOptions = {},
): Promise<BrokeredWarrant> {
  const subject = await registerAgent(s);
  const r = await s.http('POST', '/v1/requests', {
    as: 'alice',
    body: {
      subject,
      action: 'grant',
      connector: 'appdb',
      scope: (o.tables ?? ['orders', 'invoices']).map((t) => ({
        resource: `pg/appdb/public/${t}`,
        permissions: ['read'],
      })),
      environment: 'staging',
      executor: { principal: 'deploy-eu' },
      duration: o.duration ?? '2h',
      ...(o.maxUses === undefined ? {} : { maxUses: o.maxUses }),
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

/** Polls `check` until it holds, for up to `timeoutMs`. */
export async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(everyMs);
  }
}
