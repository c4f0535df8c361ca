import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { ADMIN_PASSWORD, type PgFixture } from '../connectors/pg-fixture.js';
import { approve, registerAgent } from './mcp-gating.js';
import type { JWK } from 'jose';
import { Receiver } from '../connectors/webhook-receiver.js';
import { TestServer } from './server.js';

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
  /** Another connector, with the scope to ask of it (instead of `tables`). */
  readonly connector?: { readonly name: string; readonly scope: readonly ScopeEntry[] };
}

type ScopeEntry = { readonly resource: string; readonly permissions: readonly string[] };

/** Asks, as alice, for a brokered grant of `scope` through `connector` for `subject`. */
export const requestBrokered = (
  s: TestServer,
  subject: string,
  connector: string,
  scope: readonly ScopeEntry[],
  over: Record<string, unknown> = {},
) =>
  s.http('POST', '/v1/requests', {
    as: 'alice',
    body: {
      subject,
      action: 'grant',
      connector,
      scope,
      environment: 'staging',
      executor: { principal: 'deploy-eu' },
      duration: '2h',
      reason: 'the agent works through its approved tables',
      ...over,
    },
  });

/** An approved brokered grant (of read on `tables` of appdb, by default) for a fresh agent. */
export async function brokeredWarrant(
  s: TestServer,
  o: WarrantOptions = {},
): Promise<BrokeredWarrant> {
  const subject = await registerAgent(s);
  const scope = (o.tables ?? ['orders', 'invoices']).map((t) => ({
    resource: `pg/appdb/public/${t}`,
    permissions: ['read'],
  }));
  const r = await requestBrokered(
    s,
    subject,
    o.connector?.name ?? 'appdb',
    o.connector?.scope ?? scope,
    {
      ...(o.duration === undefined ? {} : { duration: o.duration }),
      ...(o.maxUses === undefined ? {} : { maxUses: o.maxUses }),
    },
  );
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

/**
 * A server brokering connector `tickets` through a webhook receiver that trusts what the
 * server publishes, fetched as an integrator would. `observe`: the receiver also answers
 * the connector's observations, and both schedules run each second.
 */
export async function startTicketsBroker(
  hookToken: string,
  o: { readonly observe?: boolean } = {},
): Promise<{ server: TestServer; receiver: Receiver }> {
  // The receiver asks for the JWKS only once the server answers calls.
  const started: { server?: TestServer } = {};
  const receiver = await Receiver.start(async () => {
    const r = await fetch(`${started.server?.url ?? ''}/.well-known/jwks.json`);
    return (await r.json()) as { keys: JWK[] };
  });
  const server = await TestServer.start({
    config: {
      connectors: [
        {
          name: 'tickets',
          kind: 'webhook',
          url: `${receiver.url}/countersign`,
          ...(o.observe ? { observeUrl: `${receiver.url}/grants` } : {}),
          tokenEnv: 'TICKETS_HOOK_TOKEN',
        },
      ],
      ...(o.observe ? { revocationInterval: '1s', observeInterval: '1s' } : {}),
    },
    env: { TICKETS_HOOK_TOKEN: hookToken },
  });
  started.server = server;
  return { server, receiver };
}
