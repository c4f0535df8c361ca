import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { OffsetClock } from '../src/core/clock.js';
import type { PrincipalId } from '../src/core/ids.js';
import type { Principal } from '../src/identity/principal.js';
import { KeyRingHolder } from '../src/keys/holder.js';
import { parsePolicyText } from '../src/policy/load.js';
import { SAMPLE_POLICY } from '../src/server/dev.js';
import { wireIdentity } from '../src/server/identity.js';
import type { ServiceContext } from '../src/service/context.js';
import { createRequest } from '../src/service/create-request.js';
import { decide } from '../src/service/decide.js';
import { loadOrCreateKeyRing } from '../src/service/keys.js';
import { registerNhi } from '../src/service/nhis.js';
import { integrateBatch } from '../src/service/integrate.js';
import { openSqliteStore } from '../src/store/sqlite/open.js';

export const ORIGIN = 'countersign.bench/log';

export const who = (id: string, roles: Principal['roles'], groups: string[] = []): Principal => ({
  id: id as PrincipalId,
  roles,
  groups,
  via: 'api_token',
});

export const alice = who('alice', ['requester'], ['team-data']);
export const bob = who('bob', ['approver'], ['sre']);
export const carol = who('carol', ['approver'], ['sre']);
export const deployEu = who('deploy-eu', ['executor']);

/** A real service context over a fresh SQLite store in `dir`. */
export async function benchContext(dir: string): Promise<ServiceContext> {
  const store = await openSqliteStore({ file: join(dir, 'countersign.db') });
  const clock = new OffsetClock();
  const kek = randomBytes(32);
  const keys = new KeyRingHolder(await loadOrCreateKeyRing(store, kek, clock), kek);
  const integration = { store, clock, keys: () => keys.ring, origin: ORIGIN };
  return {
    store,
    integrateLog: async () => {
      while ((await integrateBatch(integration)).integrated > 0);
    },
    clock,
    keys: () => keys.ring,
    keyAdmin: keys,
    policy: parsePolicyText(SAMPLE_POLICY, 'yaml'),
    issuer: 'countersign',
    identity: wireIdentity(undefined, [], clock).settings,
  };
}

/** Registers an NHI, creates a request and approves it; returns the request id and warrant. */
export async function approvedWarrant(
  ctx: ServiceContext,
  n: number,
  maxUses: number,
): Promise<{ requestId: string; token: string }> {
  await registerNhi(ctx, alice, {
    id: `agent:bench-${n}`,
    kind: 'ai_agent',
    owner: 'team-data',
  });
  const r = await createRequest(ctx, alice, {
    subject: `agent:bench-${n}`,
    action: 'grant',
    scope: [{ resource: 'db/orders', permissions: ['read'] }],
    environment: 'staging',
    targets: ['eu'],
    executor: { kind: 'principal', principal: deployEu.id },
    durationMs: 3_600_000,
    maxUses,
    reason: 'bench',
  });
  await decide(ctx, bob, r.id, 'approve', 'ok');
  const w = await ctx.store.read.warrants.getByRequest(r.id);
  return { requestId: r.id, token: w?.token ?? '' };
}
