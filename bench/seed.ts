/**
 * Fills a store with a generated reconcile input (see reconcile-input.ts) through the
 * store's own write ports, in batches: the state a long-running deployment reconciles.
 * The rows cite no log events (the log is not what these benchmarks measure).
 */
import type { WarrantId } from '../src/core/ids.js';
import type { NhiId } from '../src/core/ids.js';
import { factKey, observationKey } from '../src/observation/observation.js';
import type { ApprovedGrant, ReconcileInput } from '../src/reconcile/input.js';
import type { RequestBody, RequestRecord } from '../src/request/request.js';
import type { Store, TxPorts } from '../src/service/ports/store.js';
import type { WarrantClaims } from '../src/warrant/warrant.js';

const BATCH = 2_000;

async function inBatches<T>(
  store: Store,
  items: readonly T[],
  write: (tx: TxPorts, item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) {
    const batch = items.slice(i, i + BATCH);
    await store.transaction(async (tx) => {
      for (const item of batch) await write(tx, item);
    });
  }
}

/**
 * The records in the order a running server writes them: each when it happened. The
 * generator lists them in no order of time, which scattered a pass's writes (expiries, in
 * window order) over table pages a real store holds together (decision 0028).
 */
export const inTimeOrder = <T>(items: readonly T[], at: (item: T) => string): T[] =>
  [...items].sort((a, b) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0));

export function requestOf(g: ApprovedGrant): RequestRecord {
  const body = {
    v: 1,
    requester: 'alice',
    subject: g.subject,
    subjectKind: 'service_account',
    subjectOwner: 'team',
    action: g.action,
    scope: g.scope,
    environment: g.environment,
    targets: g.targets,
    executor: { kind: 'principal', principal: 'deployer' },
    notBefore: g.notBefore,
    notAfter: g.notAfter,
    maxUses: 10,
    reason: 'seeded',
    createdAt: g.notBefore,
    pendingExpiresAt: g.notBefore,
    nonce: g.warrantId,
    policy: { version: `sha256:${'0'.repeat(64)}`, rule: 'seed', requiredApprovals: 1 },
  } as unknown as RequestBody;
  return {
    id: g.requestId as RequestRecord['id'],
    body,
    state: 'approved',
    warrantId: null,
    updatedAt: g.notBefore,
  };
}

/** Writes every grant (request and warrant), fulfilment, observation and redemption. */
export async function seedStore(store: Store, input: ReconcileInput): Promise<void> {
  const subjects = [...new Set(input.grants.map((g) => g.subject))];
  await inBatches(store, subjects, (tx, id) =>
    tx.nhis.insert({
      id: id as NhiId,
      kind: 'service_account',
      owner: 'team',
      description: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      createdBy: 'seed',
    }),
  );
  await inBatches(
    store,
    inTimeOrder(input.grants, (g) => g.notBefore),
    async (tx, g) => {
      await tx.requests.insert(requestOf(g));
      await tx.warrants.insert({
        id: g.warrantId as WarrantId,
        requestId: g.requestId as RequestRecord['id'],
        kid: 'seed',
        token: 'seed',
        claims: { jti: g.warrantId, max_uses: 10 } as unknown as WarrantClaims,
        notBefore: g.notBefore,
        notAfter: g.notAfter,
        uses: 1,
        maxUses: 10,
        state: g.revokedAt === null ? 'active' : 'revoked',
        issuedAt: g.notBefore,
        revokedAt: g.revokedAt,
        revokedBy: g.revokedAt === null ? null : 'seed',
        revokeReason: null,
      });
    },
  );
  await inBatches(
    store,
    inTimeOrder(input.fulfilments, (f) => f.at),
    (tx, f) => tx.fulfilments.insert(f, 0),
  );
  // The generator may repeat a sighting; the store records a re-sent observation once.
  const observations = new Map(
    inTimeOrder(input.observations, (o) => o.receivedAt).map((o) => [observationKey(o), o]),
  );
  await inBatches(store, [...observations], (tx, [key, o]) =>
    tx.observations.insert(o, key, factKey(o.fact), 0),
  );
  await inBatches(
    store,
    inTimeOrder(input.redemptions, (r) => r.at),
    (tx, r) =>
      tx.warrants.recordRedemption({
        id: `${r.receiptId}:${r.target ?? 'default'}`,
        warrantId: r.warrantId as WarrantId,
        outcome: 'allow',
        code: null,
        useNumber: 1,
        executor: 'deployer',
        action: {
          resource: 'db/orders',
          permission: 'read',
          environment: 'prod',
          target: r.target,
        },
        at: r.at,
        eventId: Number(r.id),
      }),
  );
}
