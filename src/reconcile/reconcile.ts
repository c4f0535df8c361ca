import type { NewFinding } from './finding.js';
import type {
  AutomaticResolution,
  ExistingFinding,
  FindingSink,
  ReconcileInput,
  ReconcileResult,
  Reopening,
} from './input.js';
import type { Observation } from '../observation/observation.js';
import { buildIndexes, type Indexes } from './indexes.js';
import { fulfilmentMismatches, observedGrants, unapprovedVersions } from './observed.js';
import { driftLookups, expiredNotRevoked, unfulfilledTargets } from './windows.js';
import { redemptionAbuse } from './abuse.js';

export type {
  ApprovedGrant,
  AutomaticResolution,
  DenialRecord,
  ExistingFinding,
  ReconcileInput,
  ReconcileResult,
  RedemptionRecord,
  Reopening,
} from './input.js';

export const DEFAULT_ABUSE_THRESHOLD = 3;
/** How long a target may lag behind a confirmed rotation elsewhere: 15 minutes. */
export const DEFAULT_DRIFT_GRACE_MS = 15 * 60_000;

/**
 * Collects verdicts. A key is raised at most once and never when it, or a key the rule names
 * as the same fact, already exists; a key reconciliation resolved itself is reopened when it
 * holds again, unless a finding of the same fact is live (one a person resolved stays
 * resolved: that was a decision, not a cleared condition). A clearance resolves only an
 * existing unresolved finding, and never one whose key some rule found to hold in this run.
 */
function collector(existing: ReadonlyMap<string, ExistingFinding>): FindingSink & {
  result(): ReconcileResult;
} {
  const raise = new Map<string, NewFinding>();
  const reopen = new Map<string, Reopening>();
  const held = new Set<string>();
  const resolve = new Map<string, AutomaticResolution>();
  const found = (key: string): boolean => raise.has(key) || reopen.has(key);
  const live = (key: string): boolean => {
    const e = existing.get(key);
    return found(key) || (e !== undefined && e.state !== 'resolved');
  };
  return {
    holds(f, sameFactAs = []) {
      held.add(f.key);
      if (found(f.key)) return;
      const e = existing.get(f.key);
      if (e === undefined) {
        if (!sameFactAs.some((k) => existing.has(k) || found(k))) raise.set(f.key, f);
      } else if (e.state === 'resolved' && e.automatic === true && !sameFactAs.some(live)) {
        reopen.set(f.key, { findingId: e.id, finding: f });
      }
    },
    cleared(key, reason) {
      const e = existing.get(key);
      if (e === undefined || e.state === 'resolved' || resolve.has(key)) return;
      resolve.set(key, { findingId: e.id, key, reason });
    },
    result: () => ({
      raise: [...raise.values()],
      reopen: [...reopen.values()],
      resolve: [...resolve.values()].filter((r) => !held.has(r.key)),
    }),
  };
}

/** A usable threshold: at least 1, whole; a missing or non-finite value means the default. */
const abuseThreshold = (t: number | undefined): number =>
  t === undefined || !Number.isFinite(t) ? DEFAULT_ABUSE_THRESHOLD : Math.max(1, Math.ceil(t));

/** A usable grace: at least 0; a missing or non-finite value means the default. */
const driftGrace = (ms: number | undefined): number =>
  ms === undefined || !Number.isFinite(ms) ? DEFAULT_DRIFT_GRACE_MS : Math.max(0, ms);

/**
 * Compares what was approved (`grants`), what executors claimed (`fulfilments`)
 * and what collectors observed (`observations`), and returns the findings to raise
 * and the existing findings to resolve automatically. Pure and deterministic: the
 * same input gives the same output, in input order.
 *
 * Kinds and keys (an untargeted warrant has the one target `default`; each name in a key
 * has `\` and `|` escaped by `keyPart`). Only
 * fulfilments of `rotate` and `custom` warrants claim secret versions: a `grant`
 * fulfilment's fingerprint describes the grant it applied.
 *
 * - `UNFULFILLED_TARGET|warrantId|target`: the target has no `success` `apply`
 *   fulfilment, and either the window has ended (`now >= notAfter`) and the warrant
 *   was not revoked before `notAfter`, or, inside the window of a `rotate` or
 *   `custom` warrant, another target was observed on its new version and this one is
 *   still observed on the old version `driftGraceMs` (default 15 min) later.
 *   Cleared by a late success.
 * - `FULFILMENT_MISMATCH|fulfilmentId`: a `success` `apply` claims fingerprint F at
 *   (subject, target), and of the `secret_version` observations there made at or
 *   after the fulfilment (and before the next claim there, which owns later
 *   observations) none shows F. Cleared once one does: the claim is then confirmed,
 *   and a later different version is an `UNAPPROVED_CHANGE` instead.
 * - `UNAPPROVED_CHANGE|subject|target|fingerprint`: in `observedAt` order the first
 *   `secret_version` is the baseline; each later change to a fingerprint that no
 *   `success` `apply` there claims around the change (between the two observations,
 *   the latest claim before it, or the first after it). Cleared by a later claim,
 *   since a collector may see a rotation before its executor reports it; a return to
 *   a version an earlier rotation replaced is never explained by that rotation.
 * - `UNAPPROVED_CHANGE|subject|target|resource|permission`: a grant observed
 *   present (at any time) for a subject no `grant`-action warrant covers at that
 *   target (its targets include it; one naming none covers only `default`), in force or not.
 * - `SCOPE_EXCEEDED_OBSERVED|subject|target|resource|permission`: such warrants
 *   exist, but no scope entry lists the permission on a pattern containing the
 *   observed resource (`db/*` observed is not within `db/orders`).
 * - `EXPIRED_NOT_REVOKED|warrantId|target`: a `grant`-action exception has ended
 *   (at `notAfter`, or at an earlier warrant revocation) and an in-scope grant's
 *   latest observation shows it present after the end, or no `success` `revoke`
 *   fulfilment exists there, or no observation after the end shows the grant gone.
 *   Cleared when all are untrue. A presence accounted for by a renewal (another
 *   covering grant warrant in force then) does not count; a warrant revoked early
 *   needs a revocation only where it was applied or seen.
 * - `REDEMPTION_ABUSE|warrantId`: at least `abuseThreshold` (default 3) denials;
 *   `REDEMPTION_ABUSE|caller|executor` as many by one caller with no warrant held.
 *   After a person resolves one, as many more denials make `<key>|after|<its id>`.
 *
 * Each finding names the records it rests on (`evidence`): the `warrant.issued` of
 * the warrant it concerns, the redemptions, fulfilments and observations it was
 * judged on. See each rule for its list.
 *
 * A key in `existing` is never raised again, whatever its state. Automatic
 * resolutions (`condition cleared: …`) apply to existing `open` and `acknowledged`
 * findings of the kinds above that can clear, when their condition was evaluated
 * and no longer holds; keys whose grant or fulfilment is not in the input are left alone.
 * A finding resolved that way whose condition holds again (a grant revoked, seen gone,
 * then seen again) is in `reopen`, with this occurrence's detail and evidence; one a
 * person resolved is not.
 *
 * Cost: one pass per input to build maps, then one pass per rule over those maps;
 * only each (subject, target)'s secret versions are sorted. No rule scans all
 * observations per grant or all grants per observation.
 *
 * @example
 * const { raise, resolve } = reconcile({ now, grants, fulfilments, observations,
 *   redemptions, denials, existing: new Map() });
 */
export function reconcile(input: ReconcileInput): ReconcileResult {
  return runRules(input, indexesOf(input));
}

/** The store's order of observations: `observedAt`, then `receivedAt`, then id. */
export const storeOrder = (a: Observation, b: Observation): number =>
  a.observedAt !== b.observedAt
    ? a.observedAt < b.observedAt
      ? -1
      : 1
    : a.receivedAt !== b.receivedAt
      ? a.receivedAt < b.receivedAt
        ? -1
        : 1
      : a.id < b.id
        ? -1
        : a.id > b.id
          ? 1
          : 0;

/** The indexes of `input`, with the observations of `more` it does not hold merged in order. */
function indexesOf(input: ReconcileInput, more: readonly Observation[] = []): Indexes {
  const held = new Set(more.length === 0 ? [] : input.observations.map((o) => o.id));
  const added = more.filter((o) => !held.has(o.id));
  const observations =
    added.length === 0 ? input.observations : [...input.observations, ...added].sort(storeOrder);
  return buildIndexes(input.grants, input.fulfilments, observations, input.redemptions);
}

/** A point in a secret's history: the newest `secret_version` at (subject, target) at or before `at`. */
export interface HistoryLookup {
  readonly subject: string;
  readonly target: string;
  /** An ISO instant, in `toISOString` form. */
  readonly at: string;
}

/** A reconciliation whose input may hold only part of each observation history. */
export interface PreparedReconcile {
  /**
   * The points of history the rules will read that a partial input may lack: what a
   * lagging target showed when a rotation was confirmed elsewhere (drift).
   */
  readonly lookups: readonly HistoryLookup[];
  /** Runs the rules, with the observations found for `lookups` added to the input. */
  run(found: readonly Observation[]): ReconcileResult;
}

/**
 * {@link reconcile} in two steps, for a caller that does not hand over every observation
 * (docs/decisions/0024): the input must hold, per (subject, target, fact), the newest
 * observation, the first and last of every run of one value, and the newest before and
 * oldest at or after every successful `apply` report there; `lookups` then names the
 * only other observations a rule reads. Given them, the result is exactly what
 * `reconcile` gives on the whole history. Observations must come in the store's order
 * (`observedAt`, `receivedAt`, id), so that ties fall the same way.
 */
export function prepareReconcile(input: ReconcileInput): PreparedReconcile {
  const idx = indexesOf(input);
  const lookups = driftLookups(idx, input.now, driftGrace(input.driftGraceMs)).map((l) => ({
    subject: l.subject,
    target: l.target,
    at: new Date(l.at).toISOString(),
  }));
  return {
    lookups,
    run: (found) => runRules(input, found.length === 0 ? idx : indexesOf(input, found)),
  };
}

function runRules(input: ReconcileInput, idx: Indexes): ReconcileResult {
  const sink = collector(input.existing);
  unfulfilledTargets(idx, input.now, driftGrace(input.driftGraceMs), sink);
  fulfilmentMismatches(input.fulfilments, idx, sink);
  unapprovedVersions(idx, sink);
  observedGrants(idx, sink);
  expiredNotRevoked(idx, input.now, sink);
  redemptionAbuse(input.denials, idx, input.existing, abuseThreshold(input.abuseThreshold), sink);
  return sink.result();
}
