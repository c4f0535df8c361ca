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
import { encodeEvent, type EventType } from '../src/log/event.js';
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

/** Registers the subject of every grant. */
export async function seedSubjects(store: Store, input: ReconcileInput): Promise<void> {
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
}

/**
 * With `events`, each record is written with the event a running server logs for it (and
 * the subject it names), as the reconciler's watermark reads them; without, it cites none.
 */
function eventOf(events: boolean) {
  return async (
    tx: TxPorts,
    type: EventType,
    at: string,
    links: { request?: string; warrant?: string; nhi: string },
  ): Promise<number> =>
    events ? tx.log.append(encodeEvent({ v: 1, type, at, actor: 'seed', links, data: {} })) : 0;
}

/** Writes every grant (request and warrant), fulfilment, observation and redemption. */
export async function seedRecords(
  store: Store,
  input: ReconcileInput,
  opts: {
    readonly events?: boolean;
    /** With `events`: the warrants revoked, each at its `revokedAt` with its event. */
    readonly revocations?: readonly ApprovedGrant[];
  } = {},
): Promise<void> {
  const logged = eventOf(opts.events === true);
  // With events, a warrant is written as issued, and revoked later with its own event.
  const issuedAs = (g: ApprovedGrant) => (opts.events === true ? null : g.revokedAt);
  const subjectOf = new Map(input.grants.map((g) => [g.warrantId, g.subject]));
  await inBatches(
    store,
    inTimeOrder(input.grants, (g) => g.notBefore),
    async (tx, g) => {
      await tx.requests.insert(requestOf(g));
      await logged(tx, 'warrant.issued', g.notBefore, {
        request: g.requestId,
        warrant: g.warrantId,
        nhi: g.subject,
      });
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
        state: issuedAs(g) === null ? 'active' : 'revoked',
        issuedAt: g.notBefore,
        revokedAt: issuedAs(g),
        revokedBy: issuedAs(g) === null ? null : 'seed',
        revokeReason: null,
      });
    },
  );
  const revoked = (opts.revocations ?? []).filter((g) => g.revokedAt !== null);
  await inBatches(
    store,
    inTimeOrder(revoked, (g) => g.revokedAt as string),
    async (tx, g) => {
      const at = g.revokedAt as string;
      await tx.warrants.revoke(g.warrantId as WarrantId, 'seed', 'seeded', at);
      await logged(tx, 'warrant.revoked', at, {
        request: g.requestId,
        warrant: g.warrantId,
        nhi: g.subject,
      });
    },
  );
  await inBatches(
    store,
    inTimeOrder(input.fulfilments, (f) => f.at),
    async (tx, f) =>
      tx.fulfilments.insert(
        f,
        await logged(tx, 'fulfilment.recorded', f.at, {
          request: f.requestId,
          warrant: f.warrantId,
          nhi: f.subject,
        }),
      ),
  );
  // The generator may repeat a sighting; the store records a re-sent observation once.
  const observations = new Map(
    inTimeOrder(input.observations, (o) => o.receivedAt).map((o) => [observationKey(o), o]),
  );
  await inBatches(store, [...observations], async (tx, [key, o]) => {
    if (opts.events === true && (await tx.observations.exists(key))) return;
    const id = await logged(tx, 'observation.recorded', o.receivedAt, { nhi: o.subject });
    await tx.observations.insert(o, key, factKey(o.fact), id);
  });
  // Allowed and denied redemptions alike, each with its event, in the order they happened.
  const redemptions = [
    ...input.redemptions.map((r) => ({
      type: 'redemption.allowed' as const,
      ref: Number(r.id),
      row: {
        id: `${r.receiptId}:${r.target ?? 'default'}`,
        warrantId: r.warrantId as WarrantId,
        outcome: 'allow' as const,
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
      },
    })),
    ...input.denials.map((d) => ({
      type: 'redemption.denied' as const,
      ref: 0,
      row: {
        id: d.id,
        warrantId: d.warrantId as WarrantId,
        outcome: 'deny' as const,
        code: d.code,
        useNumber: null,
        executor: d.executor,
        action: {},
        at: d.at,
      },
    })),
  ];
  await inBatches(
    store,
    inTimeOrder(redemptions, (r) => r.row.at),
    async (tx, { type, ref, row }) => {
      const warrant = row.warrantId;
      const id = await logged(tx, type, row.at, { warrant, nhi: subjectOf.get(warrant) ?? '' });
      await tx.warrants.recordRedemption({ ...row, eventId: opts.events === true ? id : ref });
    },
  );
}

/** Registers every subject, then writes every record (see `seedRecords`). */
export async function seedStore(store: Store, input: ReconcileInput): Promise<void> {
  await seedSubjects(store, input);
  await seedRecords(store, input);
}
