import { patternWithin, type Scope } from '../core/scope.js';
import type { Fulfilment } from '../fulfilment/fulfilment.js';
import { approvedTargets } from '../fulfilment/fulfilment.js';
import type { Observation } from '../observation/observation.js';
import type { RequestAction } from '../request/request.js';
import type { ApprovedGrant } from './input.js';

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

/** The union of the scopes of some grant-action warrants. */
export interface Coverage {
  /** `permission NUL resource` for every scope entry. */
  readonly exact: Set<string>;
  /** Per permission, the entry patterns that contain a `*` segment. */
  readonly wildcard: Map<string, Set<string>>;
}

/** Everything known about one subject at one target. */
export interface Place {
  readonly subject: string;
  readonly target: string;
  /** `secret_version` observations, oldest first. */
  readonly versions: TimedObservation[];
  /** Grant tuples by resource, then permission. */
  readonly tuples: Map<string, Map<string, GrantTuple>>;
  /** Success `apply` fulfilments claiming a secret version (see `VERSION_ACTIONS`), by it. */
  readonly claims: Map<string, Fulfilment[]>;
  /** Their times, ascending. */
  readonly claimTimes: number[];
  /** Grant-action warrants naming this target, and the union of their scopes. */
  readonly grantWarrants: ApprovedGrant[];
  coverage: Coverage | null;
}

/** Success reports of one warrant at one target. */
export interface WarrantTarget {
  readonly applied: Fulfilment[];
  readonly revoked: Fulfilment[];
}

/** Grant-action warrants of one subject that name no target: they cover every target. */
export interface Untargeted {
  readonly warrants: ApprovedGrant[];
  readonly coverage: Coverage;
}

export interface Indexes {
  readonly grants: ReadonlyMap<string, ApprovedGrant>;
  /** By subject, then target. */
  readonly places: ReadonlyMap<string, ReadonlyMap<string, Place>>;
  /** By warrant id, then target. */
  readonly reports: ReadonlyMap<string, ReadonlyMap<string, WarrantTarget>>;
  /** By subject. */
  readonly untargeted: ReadonlyMap<string, Untargeted>;
}

const NO_REPORTS: WarrantTarget = { applied: [], revoked: [] };

export const placeAt = (idx: Indexes, subject: string, target: string): Place | undefined =>
  idx.places.get(subject)?.get(target);

export const reportsAt = (idx: Indexes, warrantId: string, target: string): WarrantTarget =>
  idx.reports.get(warrantId)?.get(target) ?? NO_REPORTS;

/**
 * When a grant's exception ends: `notAfter`, or `revokedAt` if the warrant was
 * revoked before that.
 */
export function exceptionEnd(g: ApprovedGrant): number {
  const notAfter = Date.parse(g.notAfter);
  const revokedAt = g.revokedAt === null ? Number.NaN : Date.parse(g.revokedAt);
  return revokedAt < notAfter ? revokedAt : notAfter;
}

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

const hasWildcard = (pattern: string): boolean => pattern.split('/').includes('*');

function addScope(c: Coverage, scope: Scope): void {
  for (const e of scope) {
    for (const p of e.permissions) {
      c.exact.add(`${p}\u0000${e.resource}`);
      if (!hasWildcard(e.resource)) continue;
      const set = c.wildcard.get(p) ?? new Set<string>();
      set.add(e.resource);
      c.wildcard.set(p, set);
    }
  }
}

const newCoverage = (): Coverage => ({ exact: new Set(), wildcard: new Map() });

/** True when some scope in `c` lists `permission` on a pattern containing `resource`. */
export function coverageCovers(
  c: Coverage | null | undefined,
  resource: string,
  permission: string,
): boolean {
  if (!c) return false;
  if (c.exact.has(`${permission}\u0000${resource}`)) return true;
  for (const pattern of c.wildcard.get(permission) ?? []) {
    if (patternWithin(resource, pattern)) return true;
  }
  return false;
}

/** True when some entry of `scope` lists `permission` on a pattern containing `resource`. */
export const scopeCovers = (scope: Scope, resource: string, permission: string): boolean =>
  scope.some((e) => e.permissions.includes(permission) && patternWithin(resource, e.resource));

/**
 * The grant tuples observed at `place` that `scope` covers. A scope of concrete
 * names is answered by direct look-ups; only wildcard entries scan the tuples, and
 * only those of this one subject and target.
 */
export function inScopeTuples(scope: Scope, place: Place | undefined): GrantTuple[] {
  if (!place) return [];
  if (scope.some((e) => hasWildcard(e.resource))) {
    const all = [...place.tuples.values()].flatMap((byPerm) => [...byPerm.values()]);
    return all.filter((t) => scopeCovers(scope, t.resource, t.permission));
  }
  const found = new Set<GrantTuple>();
  for (const e of scope) {
    const byPerm = place.tuples.get(e.resource);
    for (const p of e.permissions) {
      const t = byPerm?.get(p);
      if (t) found.add(t);
    }
  }
  return [...found];
}

/** Builds every index in time linear in the inputs (plus sorting each place's history). */
export function buildIndexes(
  grants: readonly ApprovedGrant[],
  fulfilments: readonly Fulfilment[],
  observations: readonly Observation[],
): Indexes {
  const places = new Map<string, Map<string, Place>>();
  const place = (subject: string, target: string): Place => {
    let bySubject = places.get(subject);
    if (!bySubject) places.set(subject, (bySubject = new Map<string, Place>()));
    let p = bySubject.get(target);
    if (!p) {
      p = {
        subject,
        target,
        versions: [],
        tuples: new Map(),
        claims: new Map(),
        claimTimes: [],
        grantWarrants: [],
        coverage: null,
      };
      bySubject.set(target, p);
    }
    return p;
  };
  const byWarrant = new Map<string, ApprovedGrant>();
  for (const g of grants) byWarrant.set(g.warrantId, g);
  const untargeted = new Map<string, Untargeted>();
  for (const g of byWarrant.values()) {
    if (g.action !== 'grant') continue;
    if (g.targets.length === 0) {
      let u = untargeted.get(g.subject);
      if (!u) untargeted.set(g.subject, (u = { warrants: [], coverage: newCoverage() }));
      u.warrants.push(g);
      addScope(u.coverage, g.scope);
    }
    for (const t of new Set(g.targets)) {
      const p = place(g.subject, t);
      p.grantWarrants.push(g);
      addScope((p.coverage ??= newCoverage()), g.scope);
    }
  }
  const reports = new Map<string, Map<string, WarrantTarget>>();
  for (const f of fulfilments) {
    if (f.outcome !== 'success') continue;
    let byTarget = reports.get(f.warrantId);
    if (!byTarget) reports.set(f.warrantId, (byTarget = new Map<string, WarrantTarget>()));
    let r = byTarget.get(f.target);
    if (!r) byTarget.set(f.target, (r = { applied: [], revoked: [] }));
    switch (f.phase) {
      case 'apply': {
        r.applied.push(f);
        if (f.fingerprint === null || !claimsVersion(byWarrant.get(f.warrantId))) break;
        const p = place(f.subject, f.target);
        const list = p.claims.get(f.fingerprint);
        if (list) list.push(f);
        else p.claims.set(f.fingerprint, [f]);
        p.claimTimes.push(Date.parse(f.at));
        break;
      }
      case 'revoke':
        r.revoked.push(f);
        break;
    }
  }
  observations.forEach((obs, index) => {
    const timed = {
      obs,
      t: Date.parse(obs.observedAt),
      received: Date.parse(obs.receivedAt),
      index,
    };
    const p = place(obs.subject, obs.target);
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
  for (const bySubject of places.values()) {
    for (const p of bySubject.values()) {
      p.versions.sort((a, b) => (isLater(a, b) ? 1 : -1));
      p.claimTimes.sort((a, b) => a - b);
    }
  }
  return { grants: byWarrant, places, reports, untargeted };
}
