import { setTimeout as sleep } from 'node:timers/promises';
import type { PgFixture } from '../connectors/pg-fixture.js';
import {
  BROKERED_ACTION,
  brokerConfig,
  brokeredWarrant as brokeredWarrantOn,
  until,
  type BrokeredWarrant,
} from './broker.js';
import { query } from './db.js';
import { pgQuery } from './postgres.js';
import type { HttpResult, TestServer } from './server.js';

/**
 * Shared pieces of the broker fault tests: a server wired to the fixture's PostgreSQL
 * connector, brokered warrants, and the two places a grant can be seen from outside, the
 * store's `grants` table and the database's `pg_roles`.
 */

/**
 * A dev policy whose brokered grants may be redeemed up to 200 times: the sample policy
 * caps every warrant at 10 uses, and the fault tests need more on one warrant.
 * Dev mode keeps a policy.yaml already in the data dir, so this is written there first.
 */
export const BURST_POLICY = `version: 1
environments: [staging]
rules:
  - name: brokered-burst
    match:
      actions: [grant]
    approvals:
      required: 1
      groups: [sre]
    maxDuration: 1h
    maxUses: 200
`;

/** The server config and environment that give a server the fixture's connector `appdb`. */
export const connectorSetup = (fx: PgFixture, revocationInterval: string) =>
  brokerConfig(fx, { revocationInterval });

export const ACTION = BROKERED_ACTION;
export { until, type BrokeredWarrant };

/** An approved brokered grant of read on orders for a fresh agent. */
export const brokeredWarrant = (
  s: TestServer,
  o: { readonly maxUses: number; readonly duration: string },
): Promise<BrokeredWarrant> => brokeredWarrantOn(s, { ...o, tables: ['orders'] });

/** `count` approved brokered grants, each for its own fresh agent, issued one after another. */
export async function brokeredWarrants(
  s: TestServer,
  count: number,
  o: { readonly maxUses: number; readonly duration: string },
): Promise<BrokeredWarrant[]> {
  const warrants: BrokeredWarrant[] = [];
  for (let i = 0; i < count; i++) warrants.push(await brokeredWarrant(s, o));
  return warrants;
}

/** One brokered redemption; a 503 (load shed before any state is read) is tried again. */
export async function redeemBrokered(s: TestServer, token: string): Promise<HttpResult> {
  for (let attempt = 0; ; attempt++) {
    const r = await s.http('POST', '/v1/redemptions', {
      as: 'deploy-eu',
      body: { warrant: token, action: ACTION },
    });
    if (r.status !== 503 || attempt >= 50) return r;
    await sleep(20 + Math.random() * 80);
  }
}

/** Every role the connector mints that the database holds now. */
export async function mintedRoles(fx: PgFixture): Promise<Set<string>> {
  const r = await fx.su.query<{ rolname: string }>(
    "SELECT rolname FROM pg_roles WHERE rolname LIKE 'cs\\_%'",
  );
  return new Set(r.rows.map((x) => x.rolname));
}

/** A grant row as the tests read it, from either store. */
export interface StoredGrant {
  readonly id: string;
  readonly warrant_id: string;
  readonly handle: string;
  readonly state: string;
  readonly due_at: string;
  readonly created_at: string;
  readonly revoked_at: string | null;
  readonly attempts: number;
}

const GRANTS_SQL =
  'select id, warrant_id, handle, state, due_at, created_at, revoked_at, attempts from grants';

/**
 * The grant rows of one warrant, or of several, in a server's store (SQLite file or
 * PostgreSQL database).
 */
export async function storedGrants(
  s: TestServer,
  warrantIds: string | readonly string[],
): Promise<StoredGrant[]> {
  const ids = typeof warrantIds === 'string' ? [warrantIds] : [...warrantIds];
  const rows = s.databaseUrl.startsWith('postgres')
    ? await pgQuery<StoredGrant>(s.databaseUrl, `${GRANTS_SQL} where warrant_id = any($1)`, [ids])
    : query<StoredGrant>(
        s.dataDir,
        `${GRANTS_SQL} where warrant_id in (${ids.map(() => '?').join(', ')})`,
        ...ids,
      );
  return rows.map((g) => ({ ...g, attempts: Number(g.attempts) }));
}

/** Counts of the values of `key` over `items`, for the printed summaries. */
export function tally<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1;
  return out;
}

/** A fresh database on the fixture's cluster for a server's store, and its URL. */
export async function storeDatabase(fx: PgFixture, name: string): Promise<string> {
  await fx.su.query(`CREATE DATABASE ${fx.su.escapeIdentifier(name)}`);
  // The fixture's pg_hba.conf still trusts the `postgres` superuser on loopback.
  return `postgres://postgres@127.0.0.1:${fx.port}/${name}`;
}
