/**
 * What each connector's target actually holds, fed to reconciliation: the broker is a
 * collector of its own targets. A credential it minted is observed under the NHI it was
 * minted for; any other credential with privileges there (a role made by hand on a
 * protected table) under an NHI discovered for it, so that reconciliation finds no
 * warrant explaining it (`UNAPPROVED_CHANGE`). Only changes are recorded: a privilege
 * newly seen is recorded present, one no longer seen is recorded absent.
 */
import { createHash } from 'node:crypto';
import type { Connector, ConnectorObservation } from '../connectors/connector.js';
import type { NhiId, WarrantId } from '../core/ids.js';
import { isCountersignError } from '../core/errors.js';
import type { Observation, ObservationInput } from '../observation/observation.js';
import { BROKER, BROKER_OBSERVER, connectorReason } from './broker.js';
import { record, type ServiceContext } from './context.js';
import { recordObservations } from './observe.js';
import { findNhi } from './nhis.js';
import { nhiKey } from '../nhi/key.js';

/** Where one connector's observation stands on this node. */
export interface ObserveHealth {
  readonly connector: string;
  readonly lastObservedAt: string | null;
  readonly failingSince: string | null;
  readonly lastError: string | null;
}

export interface ObserveResult {
  readonly recorded: number;
  readonly discovered: number;
}

/** The NHI of a credential countersign did not mint: `dbrole:<connector>/<role>`. */
export function discoveredNhi(connector: string, role: string): NhiId {
  // A role name the NHI grammar cannot hold is named by its digest instead.
  const name = /^[A-Za-z0-9._@-]{1,120}$/.test(role)
    ? role
    : `h-${createHash('sha256').update(role).digest('hex').slice(0, 16)}`;
  return `dbrole:${connector}/${name}` as NhiId;
}

/** Per-connector health of the observation sweep, for `/readyz`. */
export class ObserveTracker {
  readonly #health = new Map<string, ObserveHealth>();

  ok(connector: string, at: string): void {
    this.#health.set(connector, {
      connector,
      lastObservedAt: at,
      failingSince: null,
      lastError: null,
    });
  }

  failed(connector: string, at: string, error: string): void {
    const prev = this.#health.get(connector);
    this.#health.set(connector, {
      connector,
      lastObservedAt: prev?.lastObservedAt ?? null,
      failingSince: prev?.failingSince ?? at,
      lastError: error,
    });
  }

  all(): ObserveHealth[] {
    return [...this.#health.values()];
  }

  /** Revoked grants whose absence after the end is on record: not looked at again. */
  readonly settled = new Set<string>();
}

/** Observes every configured connector once. A failing connector is skipped, the rest go on. */
export async function sweepObservations(
  ctx: ServiceContext,
  tracker?: ObserveTracker,
): Promise<ObserveResult> {
  let recorded = 0;
  let discovered = 0;
  for (const connector of ctx.connectors?.values() ?? []) {
    const at = ctx.clock.now().toISOString();
    try {
      const r = await observeOne(ctx, connector, at, tracker?.settled ?? new Set());
      recorded += r.recorded;
      discovered += r.discovered;
      tracker?.ok(connector.name, at);
    } catch (e) {
      // Another node recording the same change first is not a failure of the target.
      if (isCountersignError(e) && e.code === 'OBSERVATION_OUT_OF_ORDER') continue;
      tracker?.failed(connector.name, at, connectorReason(e));
    }
  }
  return { recorded, discovered };
}

type Held = Omit<ObservationInput, 'observedAt' | 'target'>;

async function observeOne(
  ctx: ServiceContext,
  c: Connector,
  at: string,
  settled: Set<string>,
): Promise<ObserveResult> {
  const seen = await c.observe();
  const { held, unmanaged } = await attribute(ctx, c.name, seen);
  const discovered = await discover(ctx, c.name, unmanaged);
  const latest = await ctx.store.read.observations.latestAt(c.name);
  const heldNow = new Map(held.map((h) => [tupleKey(h.subject, h.fact), h]));
  const inputs: ObservationInput[] = [];
  const wasPresent = new Set<string>();
  for (const o of latest) {
    if (o.fact.kind !== 'grant') continue;
    const key = tupleKey(o.subject, o.fact);
    if (o.fact.present) wasPresent.add(key);
    if (o.fact.present && !heldNow.has(key)) {
      inputs.push({ ...absent(o), target: c.name, observedAt: at });
    }
  }
  for (const [key, h] of heldNow) {
    if (!wasPresent.has(key)) inputs.push({ ...h, target: c.name, observedAt: at });
  }
  const recorded = new Set(inputs.map((i) => tupleKey(i.subject, i.fact)));
  const { gone, done } = await goneAfterEnd(ctx, c.name, { at, heldNow, latest, settled });
  for (const h of gone) {
    if (!recorded.has(tupleKey(h.subject, h.fact))) {
      inputs.push({ ...h, target: c.name, observedAt: at });
    }
  }
  const r = inputs.length === 0 ? null : await recordObservations(ctx, BROKER_OBSERVER, inputs);
  // Only once on record: a failed pass looks at these grants again.
  for (const id of done) settled.add(id);
  return { recorded: r?.recorded ?? 0, discovered };
}

const tupleKey = (subject: string, fact: Held['fact']): string =>
  fact.kind === 'grant' ? JSON.stringify([subject, fact.resource, fact.permission]) : '';

const absent = (o: Observation): Held => ({
  subject: o.subject,
  fact: { ...(o.fact as Extract<Observation['fact'], { kind: 'grant' }>), present: false },
});

/** How far back revoked grants are looked at for an absence still to be observed. */
const CONFIRM_WINDOW_MS = 86_400_000;

/**
 * A grant revoked before its window ended (the sweep revokes ahead of the end) was seen
 * gone only before the end; reconciliation settles the exception on an observation made
 * after it. Once the window is over, each approved privilege the target no longer holds
 * and that was not seen since the end is recorded absent again.
 */
async function goneAfterEnd(
  ctx: ServiceContext,
  connector: string,
  o: {
    readonly at: string;
    readonly heldNow: ReadonlyMap<string, Held>;
    readonly latest: readonly Observation[];
    readonly settled: Set<string>;
  },
): Promise<{ gone: Held[]; done: string[] }> {
  const { at, heldNow } = o;
  const since = new Date(Date.parse(at) - CONFIRM_WINDOW_MS).toISOString();
  const seenAt = new Map(o.latest.map((x) => [tupleKey(x.subject, x.fact), x.observedAt]));
  const out = new Map<string, Held>();
  const done: string[] = [];
  const rows = await ctx.store.read.grants.revokedSince(since);
  // Forget what fell out of the look-back, so the set stays a day's worth of grants.
  const inWindow = new Set(rows.map((r) => r.id));
  for (const id of o.settled) if (!inWindow.has(id)) o.settled.delete(id);
  for (const row of rows) {
    if (row.connector !== connector || o.settled.has(row.id)) continue;
    const w = await ctx.store.read.warrants.get(row.warrantId as WarrantId);
    if (w === null || w.notAfter > at) continue;
    done.push(row.id);
    for (const e of w.claims.scope) {
      for (const permission of e.permissions) {
        const fact = { kind: 'grant' as const, resource: e.resource, permission, present: false };
        const key = tupleKey(row.subject, fact);
        const last = seenAt.get(key);
        if (heldNow.has(key) || (last !== undefined && last >= w.notAfter)) continue;
        out.set(key, { subject: row.subject, fact });
      }
    }
  }
  return { gone: [...out.values()], done };
}

/**
 * Who holds each observed privilege. A credential counts as minted only when a grant row
 * of this connector has its handle and subject: a label on the target alone could be
 * forged by anyone who can create roles there. A minted role's bare `login` (no privilege
 * left, as mid-revocation) is left out: its grant's own schedule covers it.
 */
async function attribute(
  ctx: ServiceContext,
  connector: string,
  seen: readonly ConnectorObservation[],
): Promise<{ held: Held[]; unmanaged: Map<NhiId, string> }> {
  const held: Held[] = [];
  const unmanaged = new Map<NhiId, string>();
  // Roles whose NHI ids differ only by case (`Rogue`, `rogue`) share one comparison key,
  // so one NHI: the first seen, or the one registered. Each would otherwise be refused
  // by the store's unique key, and stop this connector's observation for good.
  const sameKey = new Map<string, NhiId>();
  for (const o of seen) {
    const row = o.managed && o.grantId ? await ctx.store.read.grants.get(o.grantId) : null;
    const minted =
      row !== null &&
      row.connector === connector &&
      row.handle === o.role &&
      row.subject === o.subject;
    if (minted && o.permission === 'login') continue;
    let subject = minted ? (row.subject as NhiId) : discoveredNhi(connector, o.role);
    if (!minted) {
      const key = nhiKey(subject);
      subject = sameKey.get(key) ?? (await findNhi(ctx.store.read, subject))?.id ?? subject;
      sameKey.set(key, subject);
      if (!unmanaged.has(subject)) unmanaged.set(subject, o.role);
    }
    const fact = { kind: 'grant' as const, resource: o.resource, permission: o.permission };
    held.push({ subject, fact: { ...fact, present: true } });
  }
  return { held, unmanaged };
}

/** Registers an NHI for each credential seen that no one registered, owned by the broker. */
async function discover(
  ctx: ServiceContext,
  connector: string,
  roles: ReadonlyMap<NhiId, string>,
): Promise<number> {
  let n = 0;
  for (const [id, role] of roles) {
    if ((await findNhi(ctx.store.read, id)) !== null) continue;
    const now = ctx.clock.now();
    const nhi = {
      id,
      kind: 'service_account' as const,
      owner: BROKER,
      description: `database role ${JSON.stringify(role).slice(0, 200)} found by connector ${connector}, not minted by countersign`,
      createdAt: now.toISOString(),
      createdBy: BROKER,
    };
    const added = await ctx.store.transaction(async (tx) => {
      if ((await findNhi(tx, nhi.id)) !== null) return false;
      await tx.nhis.insert(nhi);
      await record(tx, 'nhi.registered', now, BROKER, { nhi: nhi.id }, { nhi, discovered: true });
      return true;
    });
    if (added) n += 1;
  }
  return n;
}

/**
 * The broker's part of `/readyz`: revocations past due (and how many have failed at
 * least once), and each connector's last observation. It never makes the node unready:
 * a target that is down is no reason to take the API out of rotation.
 */
export async function brokerReadiness(
  ctx: ServiceContext,
): Promise<Record<string, unknown> | null> {
  if (ctx.connectors === undefined || ctx.connectors.size === 0) return null;
  const revocations = await ctx.store.read.grants.backlog(ctx.clock.now().toISOString());
  const observed = new Map((ctx.brokerHealth?.all() ?? []).map((h) => [h.connector, h]));
  return {
    revocations,
    connectors: [...ctx.connectors.keys()].map((name) => {
      const h = observed.get(name);
      return {
        name,
        lastObservedAt: h?.lastObservedAt ?? null,
        failingSince: h?.failingSince ?? null,
      };
    }),
  };
}
