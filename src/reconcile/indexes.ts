import type { Fulfilment } from '../fulfilment/fulfilment.js';
import { approvedTargets, UNTARGETED } from '../core/vocabulary.js';
import type { Observation } from '../observation/observation.js';
import type { RequestAction } from '../core/vocabulary.js';
import { addScope, newCoverage, type Coverage } from './coverage.js';
import type { ApprovedGrant, RedemptionRecord } from './input.js';

/**
 * One pass over each input builds the maps every rule reads, so that no rule ever
 * scans all observations or all grants for each record. Maps are nested by field
 * (subject, then target) rather than keyed by joined strings: no key is built per
 * record, which keeps the passes cheap at hundreds of thousands of observations.
 */

/** An observation with its parsed times and input position, for ordering. */
export interface TimedObservation {
  readonly obs: Observation;
  /** `observedAt` in ms. */
  readonly t: number;
  readonly received: number;
  readonly index: number;
}

/**
 * Order of observations: `observedAt`, then `receivedAt`, then input order. Ties at
 * the same instant are therefore settled by arrival, deterministically.
 */
export const isLater = (a: TimedObservation, b: TimedObservation): boolean =>
  a.t !== b.t ? a.t > b.t : a.received !== b.received ? a.received > b.received : a.index > b.index;

/** The observations of one (subject, target, resource, permission) grant tuple. */
export interface GrantTuple {
  readonly resource: string;
  readonly permission: string;
  latest: TimedObservation;
  firstPresent: TimedObservation | null;
  lastPresent: TimedObservation | null;
}

/** A `success` `apply` that claims a secret version at one place (see `VERSION_ACTIONS`). */
export interface Claim {
  readonly f: Fulfilment;
  readonly fingerprint: string;
  /** `f.at` in ms. */
  readonly t: number;
}

/** Everything known about one subject at one target. */
export interface Place {
  readonly subject: string;
  readonly target: string;
  /** `secret_version` observations, oldest first. */
  readonly versions: TimedObservation[];
  /** Grant tuples by resource, then permission. */
  readonly tuples: Map<string, Map<string, GrantTuple>>;
  /** Claimed secret versions, oldest first (ties in input order). */
  readonly claims: Claim[];
  /** Grant-action warrants naming this target, and the union of their scopes. */
  readonly grantWarrants: ApprovedGrant[];
  coverage: Coverage | null;
}

/** Reports of one warrant at one target: its successes by phase, and failed applies. */
export interface WarrantTarget {
  readonly applied: Fulfilment[];
  readonly revoked: Fulfilment[];
  readonly failed: Fulfilment[];
}

export interface Indexes {
  readonly grants: ReadonlyMap<string, ApprovedGrant>;
  /** By subject, then target. */
  readonly places: ReadonlyMap<string, ReadonlyMap<string, Place>>;
  /** By warrant id, then target. */
  readonly reports: ReadonlyMap<string, ReadonlyMap<string, WarrantTarget>>;
  /** Allowed redemptions by warrant id, then the target redeemed for (`default` if none). */
  readonly redemptions: ReadonlyMap<string, ReadonlyMap<string, RedemptionRecord[]>>;
  /** Allowed redemptions by receipt id. */
  readonly receipts: ReadonlyMap<string, RedemptionRecord>;
}

const NO_REPORTS: WarrantTarget = { applied: [], revoked: [], failed: [] };

export const placeAt = (idx: Indexes, subject: string, target: string): Place | undefined =>
  idx.places.get(subject)?.get(target);

export const reportsAt = (idx: Indexes, warrantId: string, target: string): WarrantTarget =>
  idx.reports.get(warrantId)?.get(target) ?? NO_REPORTS;

/** The allowed redemptions of a warrant for one target. */
export const redemptionsAt = (
  idx: Indexes,
  warrantId: string,
  target: string,
): readonly RedemptionRecord[] => idx.redemptions.get(warrantId)?.get(target) ?? [];

/** The distinct approved targets of a grant (`[UNTARGETED]` when it names none). */
export const targetsOf = (g: ApprovedGrant): string[] => [...new Set(approvedTargets(g.targets))];

/**
 * Actions whose successful `apply` fingerprint names the secret version now at the
 * target. A `grant` fulfilment's fingerprint describes the grant it applied, so it
 * claims no secret version; nor does a fulfilment whose warrant is not in the input.
 */
export const VERSION_ACTIONS: readonly RequestAction[] = ['rotate', 'custom'];

export const claimsVersion = (g: ApprovedGrant | undefined): boolean =>
  g !== undefined && VERSION_ACTIONS.includes(g.action);

type Places = Map<string, Map<string, Place>>;

/** The place of (subject, target), created on first use. */
function placeIn(places: Places, subject: string, target: string): Place {
  let bySubject = places.get(subject);
  if (!bySubject) places.set(subject, (bySubject = new Map<string, Place>()));
  let p = bySubject.get(target);
  if (!p) {
    p = {
      subject,
      target,
      versions: [],
      tuples: new Map(),
      claims: [],
      grantWarrants: [],
      coverage: null,
    };
    bySubject.set(target, p);
  }
  return p;
}

/**
 * Places each grant-action warrant's coverage at its approved targets. A warrant that names
 * no target covers only {@link UNTARGETED}, as redemption and fulfilment read it: it cannot
 * be redeemed for a named target, so it approves nothing observed at one.
 */
function indexGrantWarrants(byWarrant: ReadonlyMap<string, ApprovedGrant>, places: Places): void {
  for (const g of byWarrant.values()) {
    if (g.action !== 'grant') continue;
    for (const t of targetsOf(g)) {
      const p = placeIn(places, g.subject, t);
      p.grantWarrants.push(g);
      addScope((p.coverage ??= newCoverage()), g.scope);
    }
  }
}

function indexReports(
  fulfilments: readonly Fulfilment[],
  byWarrant: ReadonlyMap<string, ApprovedGrant>,
  places: Places,
): Map<string, Map<string, WarrantTarget>> {
  const reports = new Map<string, Map<string, WarrantTarget>>();
  for (const f of fulfilments) {
    let byTarget = reports.get(f.warrantId);
    if (!byTarget) reports.set(f.warrantId, (byTarget = new Map<string, WarrantTarget>()));
    let r = byTarget.get(f.target);
    if (!r) byTarget.set(f.target, (r = { applied: [], revoked: [], failed: [] }));
    if (f.outcome !== 'success') {
      if (f.phase === 'apply') r.failed.push(f);
      continue;
    }
    switch (f.phase) {
      case 'apply':
        r.applied.push(f);
        if (f.fingerprint === null || !claimsVersion(byWarrant.get(f.warrantId))) break;
        placeIn(places, f.subject, f.target).claims.push({
          f,
          fingerprint: f.fingerprint,
          t: Date.parse(f.at),
        });
        break;
      case 'revoke':
        r.revoked.push(f);
        break;
    }
  }
  return reports;
}

function indexObservations(observations: readonly Observation[], places: Places): void {
  observations.forEach((obs, index) => {
    const timed = {
      obs,
      t: Date.parse(obs.observedAt),
      received: Date.parse(obs.receivedAt),
      index,
    };
    const p = placeIn(places, obs.subject, obs.target);
    const fact = obs.fact;
    switch (fact.kind) {
      case 'secret_version':
        p.versions.push(timed);
        return;
      case 'grant': {
        let byPerm = p.tuples.get(fact.resource);
        if (!byPerm) p.tuples.set(fact.resource, (byPerm = new Map<string, GrantTuple>()));
        let tuple = byPerm.get(fact.permission);
        if (!tuple) {
          tuple = {
            resource: fact.resource,
            permission: fact.permission,
            latest: timed,
            firstPresent: null,
            lastPresent: null,
          };
          byPerm.set(fact.permission, tuple);
        } else if (isLater(timed, tuple.latest)) {
          tuple.latest = timed;
        }
        if (!fact.present) return;
        if (tuple.firstPresent === null || isLater(tuple.firstPresent, timed))
          tuple.firstPresent = timed;
        if (tuple.lastPresent === null || isLater(timed, tuple.lastPresent))
          tuple.lastPresent = timed;
        return;
      }
    }
  });
}

/** Builds every index in time linear in the inputs (plus sorting each place's history). */
export function buildIndexes(
  grants: readonly ApprovedGrant[],
  fulfilments: readonly Fulfilment[],
  observations: readonly Observation[],
  redemptions: readonly RedemptionRecord[] = [],
): Indexes {
  const places: Places = new Map();
  const byWarrant = new Map<string, ApprovedGrant>();
  for (const g of grants) byWarrant.set(g.warrantId, g);
  indexGrantWarrants(byWarrant, places);
  const reports = indexReports(fulfilments, byWarrant, places);
  indexObservations(observations, places);
  for (const bySubject of places.values()) {
    for (const p of bySubject.values()) {
      p.versions.sort((a, b) => (isLater(a, b) ? 1 : -1));
      // Stable: claims made at the same instant keep their input order.
      p.claims.sort((a, b) => a.t - b.t);
    }
  }
  const byRedemptionTarget = new Map<string, Map<string, RedemptionRecord[]>>();
  const receipts = new Map<string, RedemptionRecord>();
  for (const r of redemptions) {
    receipts.set(r.receiptId, r);
    let byTarget = byRedemptionTarget.get(r.warrantId);
    if (!byTarget) {
      byRedemptionTarget.set(r.warrantId, (byTarget = new Map<string, RedemptionRecord[]>()));
    }
    const target = r.target ?? UNTARGETED;
    const list = byTarget.get(target);
    if (list) list.push(r);
    else byTarget.set(target, [r]);
  }
  return {
    grants: byWarrant,
    places,
    reports,
    redemptions: byRedemptionTarget,
    receipts,
  };
}
