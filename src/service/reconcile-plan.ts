import { batchesOf } from '../core/batches.js';
import type { Fulfilment } from '../fulfilment/fulfilment.js';
import type { FindingProof, NewFinding } from '../reconcile/finding.js';
import type { AutomaticResolution, ReconcileInput, ReconcileResult } from '../reconcile/input.js';
import { prepareReconcile, reconcile, storeOrder } from '../reconcile/reconcile.js';
import { proofsOf } from './evidence-indices.js';
import type { ClaimPoint } from './ports/observations.js';
import type { ReadPorts, Store } from './ports/store.js';
import type { SubjectRange } from './ports/subjects.js';

export interface PlanParams {
  /** The pass's instant, as an ISO string (a plan may be made in another thread). */
  readonly now: string;
  /**
   * The last complete pass's reach: plan only the subjects changed since (decision 0029).
   * Absent or null, every subject is planned.
   */
  readonly since?: { readonly treeSize: number; readonly at: string } | null;
  readonly driftGraceMs?: number;
  /** Registered subjects per slice; default {@link SUBJECTS_PER_SLICE}. */
  readonly subjectsPerSlice?: number;
}

/** A finding with its proof: the log indices its evidence's records were integrated at. */
export interface ProvenFinding {
  readonly finding: NewFinding;
  readonly proof: FindingProof;
}

/** A finding reconciliation had resolved whose condition holds again, with this occurrence's proof. */
export interface ReopenedFinding extends ProvenFinding {
  readonly findingId: string;
}

/** What a pass will write: each finding with its proof, and the resolutions. */
export interface ReconcilePlan {
  readonly raise: readonly ProvenFinding[];
  /** Findings reconciliation had resolved whose condition holds again. */
  readonly reopen: readonly ReopenedFinding[];
  readonly resolve: readonly AutomaticResolution[];
  /** Findings left for the next pass: an event they cite is not yet in the log. */
  readonly deferred: number;
  /** Rows read from the store to make the plan (an operator's measure of a pass's cost). */
  readonly scanned: number;
}

/** How far a plan reached: the log size its snapshot held, and the subjects it planned. */
export interface PlanReach {
  readonly treeSize: number;
  readonly subjects: number;
}

/**
 * Makes the plan of one pass, handing each slice's part to `onSlice` as soon as it is
 * made, so the pass writes one slice while the next is planned. The server makes it in a
 * worker thread (`server/`).
 */
export type ReconcilePlanner = (
  params: PlanParams,
  onSlice: (part: ReconcilePlan) => void,
) => Promise<PlanReach>;

/**
 * Registered subjects per slice: every rule judges one subject's records alone. Smaller
 * slices keep less alive at once: at 100k warrants and 1M observations, 100 per slice took
 * a pass's peak RSS from about 720 MB (500 per slice) to about 545 MB, its time within the
 * runs' spread; 2,000 took 1 GB and two seconds more (decision 0026).
 */
export const SUBJECTS_PER_SLICE = 100;

/** A slice of subjects, and how many registered subjects it holds. */
interface Slice {
  readonly range: SubjectRange;
  readonly subjects: number;
}

/** The slices of every subject: keyset pages of NHI ids, the last one open-ended. */
async function* everySubject(view: ReadPorts, size: number): AsyncGenerator<Slice> {
  let after: string | null = null;
  for (;;) {
    const page = await view.reconciliation.subjects(after, size);
    const through = page.length < size ? null : (page[page.length - 1] as string);
    yield { range: { after, through }, subjects: page.length };
    if (through === null) return;
    after = through;
  }
}

/** The slices of the subjects an incremental pass plans: `size` named subjects each. */
function* onlyThese(subjects: readonly string[], size: number): Generator<Slice> {
  for (const only of batchesOf(subjects, size))
    yield { range: { after: null, through: null, only }, subjects: only.length };
}

/** The claims among a slice's reports: where the rules need a version's limits. */
export const claimsIn = (fulfilments: readonly Fulfilment[]): ClaimPoint[] =>
  fulfilments.filter(
    (f) => f.phase === 'apply' && f.outcome === 'success' && f.fingerprint !== null,
  );

/** The pure reconciler's input for one slice of subjects, and how many rows it took. */
async function sliceInput(
  view: ReadPorts,
  range: SubjectRange,
  params: PlanParams,
): Promise<{ input: ReconcileInput; scanned: number }> {
  const grants = await view.reconciliation.grants(range);
  const warrants = grants.map((g) => g.warrantId);
  const fulfilments = await view.fulfilments.list(range);
  // Of each observation history only what a rule reads, in the store's order.
  const observations = await view.observations.forRules(range, claimsIn(fulfilments));
  const input = {
    now: new Date(params.now),
    grants,
    fulfilments,
    observations: observations.sort(storeOrder),
    redemptions: await view.reconciliation.allowedRedemptions(warrants),
    denials: await view.reconciliation.denials(warrants),
    existing: await view.findings.existingIn(range),
    ...(params.driftGraceMs === undefined ? {} : { driftGraceMs: params.driftGraceMs }),
  };
  const scanned =
    input.grants.length +
    input.fulfilments.length +
    input.observations.length +
    input.redemptions.length +
    input.denials.length +
    input.existing.size;
  return { input, scanned };
}

/**
 * A slice's part of the plan: each finding to raise or reopen with its proof, or deferred
 * when an event it cites is not yet in the log.
 */
async function provenPart(
  view: ReadPorts,
  result: ReconcileResult,
  scanned: number,
): Promise<ReconcilePlan> {
  const judged = [...result.raise.map((finding) => ({ finding })), ...result.reopen];
  const proofs = await proofsOf(
    view,
    judged.map((r) => r.finding.evidence),
  );
  const raise: ProvenFinding[] = [];
  const reopen: ReopenedFinding[] = [];
  let deferred = 0;
  judged.forEach((r, i) => {
    const p = proofs[i];
    if (p === undefined || p.pending) deferred += 1;
    else if ('findingId' in r) reopen.push({ ...r, proof: p.proof });
    else raise.push({ finding: r.finding, proof: p.proof });
  });
  return { raise, reopen, resolve: result.resolve, deferred, scanned };
}

/**
 * The part no subject's slice holds: callers refused with no warrant this server holds
 * (`REDEMPTION_ABUSE|caller|…`, subject `''`). Judged by a pass over every subject, and by
 * one that follows such a refusal; the store leaves out the refusals that cannot change a
 * verdict (`unattributedDenials`).
 */
async function unattributedPart(view: ReadPorts, params: PlanParams): Promise<ReconcilePlan> {
  const denials = await view.reconciliation.unattributedDenials();
  const existing = await view.findings.existingIn({ after: null, through: null, only: [''] });
  const result = reconcile({
    now: new Date(params.now),
    grants: [],
    fulfilments: [],
    observations: [],
    redemptions: [],
    denials,
    existing,
  });
  return provenPart(view, result, denials.length + existing.size);
}

/**
 * Reads what a pass needs from one consistent snapshot, which holds no writer up, one
 * slice of subjects at a time, and computes what to raise and resolve with the pure
 * reconciler: every rule judges one subject's records alone, so a slice is reconciled
 * on its own and memory is bounded by a slice, not by the store. Of each observation
 * history only what a rule can read is fetched (docs/decisions/0024). A finding citing
 * an event not yet integrated is deferred (its proof would be partial). Each slice's
 * part goes to `onSlice` as soon as it is made.
 */
export function planSlices(
  store: Store,
  params: PlanParams,
  onSlice: (part: ReconcilePlan) => void,
): Promise<PlanReach> {
  return store.snapshot(async (view) => {
    // The log size and the changed subjects come from the snapshot the plan reads: an
    // event integrated after it is at or beyond this size, so the next pass sees it.
    const since = params.since ?? null;
    const changed = await view.reconciliation.changedSubjects(since);
    const size = params.subjectsPerSlice ?? SUBJECTS_PER_SLICE;
    let subjects = 0;
    const slices = since === null ? everySubject(view, size) : onlyThese(changed.subjects, size);
    for await (const { range, subjects: n } of slices) {
      subjects += n;
      const slice = await sliceInput(view, range, params);
      const prepared = prepareReconcile(slice.input);
      const found =
        prepared.lookups.length === 0
          ? []
          : await view.observations.atOrBefore(
              prepared.lookups.map((l) => ({ ...l, factKey: 'secret_version' })),
            );
      onSlice(await provenPart(view, prepared.run(found), slice.scanned + found.length));
    }
    if (changed.unattributed) onSlice(await unattributedPart(view, params));
    return { treeSize: changed.treeSize, subjects };
  });
}
