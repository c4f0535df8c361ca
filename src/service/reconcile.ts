import { encodeEvent } from '../log/event.js';
import { newFindingId, type Finding } from '../reconcile/finding.js';
import type { ExpiriesPage, ExpiringWarrant, ExpiryCursor } from './ports/reconciliation.js';
import type { TxPorts } from './ports/store.js';
import { record, type ServiceContext } from './context.js';
import { Channel } from '../core/channel.js';
import type { AutomaticResolution } from '../reconcile/input.js';
import { planSlices, type PlanReach, type ReconcilePlan } from './reconcile-plan.js';
import { incrementalFrom, judgedWith } from './reconcile-reach.js';
import { enqueueWebhook } from './webhooks.js';
import { writeInTurn } from './pipelined-writes.js';
import { batchesOf } from '../core/batches.js';
import { findingLinks } from './findings.js';
import { reopenFindings } from './reconcile-reopen.js';

export interface ReconcileSummary {
  readonly at: string;
  readonly raised: number;
  /** Findings this pass had resolved whose condition holds again. */
  readonly reopened: number;
  readonly resolved: number;
  readonly expired: number;
  /** Findings left for the next pass: an event they cite arrived during this one. */
  readonly deferred: number;
  /** Rows the pass read from the store: its plan's input and the windows it checked. */
  readonly scanned: number;
  /** Whether the pass planned every subject, or only those changed since the last. */
  readonly full: boolean;
  /** Subjects the pass planned. */
  readonly planned: number;
  /** The ids of the findings raised, then of those reopened. */
  readonly findings: readonly string[];
}

/**
 * Records the end of every warrant window that has passed and is not yet recorded: read
 * a page at a time, each from its own snapshot, and written in short transactions. A
 * warrant another pass (or node) marked in between is skipped, so each expiry is recorded
 * once. Pages keep each read short on the serving thread: with 100k due, one query for
 * all of them took 0.54-0.65 s, during which nothing else was served; a page takes 8-19 ms.
 */
async function recordExpiries(
  ctx: Pick<ServiceContext, 'store'>,
  now: Date,
): Promise<{ recorded: number; scanned: number }> {
  const at = now.toISOString();
  let recorded = 0;
  let scanned = 0;
  let after: ExpiryCursor | null = null;
  do {
    const page: ExpiriesPage = await ctx.store.snapshot((view) =>
      view.reconciliation.warrantsToExpire(at, after, EXPIRY_PAGE),
    );
    scanned += page.due.length;
    const written = await writeInTurn(ctx.store, batchesOf(page.due, WRITE_BATCH), (tx, batch) =>
      expire(tx, batch, at),
    );
    recorded += written.reduce((a, b) => a + b, 0);
    after = page.next;
  } while (after !== null);
  return { recorded, scanned };
}

/** Marks one batch's expiries recorded, each with its `warrant.expired` event. */
async function expire(tx: TxPorts, batch: readonly ExpiringWarrant[], at: string): Promise<number> {
  const marked = await tx.reconciliation.markExpiriesRecorded(
    batch.map((w) => w.warrantId),
    at,
  );
  const events = batch
    .filter((w) => marked.has(w.warrantId))
    .map((w) =>
      encodeEvent({
        v: 1,
        type: 'warrant.expired',
        at,
        actor: 'countersign',
        links: { request: w.requestId, warrant: w.warrantId, nhi: w.subject },
        data: { notAfter: w.notAfter },
      }),
    );
  await tx.log.appendMany(events);
  return events.length;
}

/**
 * Due expiries read at once: each read stays under about 20 ms of the serving thread, and a
 * pass holds one page, not the backlog (decision 0028).
 */
const EXPIRY_PAGE = 1000;

/**
 * Changes written per transaction: short enough never to hold the writers up for long.
 * A thousand would save most of a big pass's WAL syncs, but on SQLite each batch runs on
 * the serving thread: in the bench it tripled redemptions' p99 while a pass ran.
 */
const WRITE_BATCH = 100;

/**
 * One reconciliation pass: approved (warrants and windows) against claimed
 * (fulfilments) and observed state.
 *
 * The pass reads from a snapshot and computes its plan there (`planSlices`, in a worker
 * thread when the server runs one), one slice of subjects at a time, and writes only its
 * changes, in short transactions, while the next slice is planned: each new finding with
 * its `finding.raised` event, then each automatic resolution with its event. A key raised
 * by a concurrent pass since the snapshot is skipped, so a finding's key is still never
 * raised twice. The expiries are recorded first (decision 0026).
 *
 * A finding records its proof as log indices (docs/decisions/0013), so the pass first
 * has `integrateLog` put every queued event in the log; a finding citing an event that
 * arrived after that is deferred to the next pass, never raised with a partial proof.
 *
 * A pass plans only the subjects whose state may have changed since the last complete
 * pass (decision 0029), unless `full` is asked or `incrementalFrom` says every subject.
 */
export async function runReconcile(
  ctx: Pick<ServiceContext, 'store' | 'clock' | 'webhooks' | 'reconcile' | 'integrateLog'>,
  opts: { readonly full?: boolean } = {},
): Promise<ReconcileSummary> {
  await ctx.integrateLog();
  const now = ctx.clock.now();
  const at = now.toISOString();
  const driftGraceMs = ctx.reconcile?.driftGraceMs;
  const judged = judgedWith(driftGraceMs);
  const mark = await ctx.store.read.reconciliation.watermark();
  const since = opts.full === true ? null : incrementalFrom(mark, now, judged);
  const params = {
    now: at,
    since,
    ...(driftGraceMs === undefined ? {} : { driftGraceMs }),
  };
  // The expiries first, before the planner thread takes the other core: planning while
  // they were written saved 2 s of a 1M-observation pass, but took redemptions' p99 during
  // a pass from about 1.0x to 1.6-2.1x of p99 alone (decision 0026).
  const expiries = await recordExpiries(ctx, now);
  const parts = new Channel<ReconcilePlan>();
  const planner = ctx.reconcile?.planner ?? ((p, onSlice) => planSlices(ctx.store, p, onSlice));
  // Each slice is written as it is planned; a finding's key is checked again when written.
  let reach: PlanReach | undefined;
  void planner(params, (part) => parts.push(part)).then(
    (r) => {
      reach = r;
      parts.end();
    },
    (error: unknown) => parts.fail(error),
  );
  const raised: string[] = [];
  const reopened: string[] = [];
  const resolutions: AutomaticResolution[] = [];
  let deferred = 0;
  let scanned = expiries.scanned;
  for await (const part of parts) {
    const written = await writeInTurn(ctx.store, batchesOf(part.raise, WRITE_BATCH), (tx, batch) =>
      raise(ctx, tx, batch, now),
    );
    raised.push(...written.flat());
    const opened = await writeInTurn(ctx.store, batchesOf(part.reopen, WRITE_BATCH), (tx, batch) =>
      reopenFindings(ctx, tx, batch, now),
    );
    reopened.push(...opened.flat());
    resolutions.push(...part.resolve);
    deferred += part.deferred;
    scanned += part.scanned;
  }
  // Resolutions after every raise, as a pass whose plan came whole wrote them.
  const resolvedEach = await writeInTurn(
    ctx.store,
    batchesOf(resolutions, WRITE_BATCH),
    (tx, batch) => resolve(tx, batch, now),
  );
  const resolved = resolvedEach.reduce((a, b) => a + b, 0);
  // Only a pass that wrote all it planned moves the watermark on (decision 0029).
  const { treeSize, subjects } = reach as PlanReach;
  const fullAt = since === null || mark === null ? at : mark.fullAt;
  await ctx.store.transaction((tx) =>
    tx.reconciliation.advanceWatermark({ treeSize, at, params: judged, fullAt }),
  );
  return {
    at,
    raised: raised.length,
    reopened: reopened.length,
    resolved,
    expired: expiries.recorded,
    deferred,
    scanned,
    full: since === null,
    planned: subjects,
    findings: [...raised, ...reopened],
  };
}

/**
 * Raises one batch in its transaction: one query for the keys already raised (by a
 * concurrent pass since the snapshot), each `finding.raised` event appended in order,
 * then the findings in multi-row inserts, so each finding commits with its event.
 */
async function raise(
  ctx: Pick<ServiceContext, 'webhooks'>,
  tx: TxPorts,
  batch: ReconcilePlan['raise'],
  now: Date,
): Promise<string[]> {
  const at = now.toISOString();
  const taken = await tx.findings.keysRaised(batch.map((r) => r.finding.key));
  const findings: Finding[] = [];
  for (const { finding: n, proof } of batch) {
    if (taken.has(n.key)) continue;
    taken.add(n.key);
    findings.push({
      ...n,
      evidence: proof,
      id: newFindingId(now),
      state: 'open',
      raisedAt: at,
      updatedAt: at,
      resolution: null,
    });
  }
  const eventIds = await tx.log.appendMany(
    findings.map((f) =>
      encodeEvent({
        v: 1,
        type: 'finding.raised',
        at,
        actor: 'countersign',
        links: findingLinks(f),
        data: {
          id: f.id,
          kind: f.kind,
          key: f.key,
          target: f.target,
          detail: f.detail,
          evidence: f.evidence,
        },
      }),
    ),
  );
  const rows = findings.map((finding, i) => ({ finding, eventId: eventIds[i] as number }));
  await tx.findings.insertMany(rows);
  for (const { finding } of rows) {
    await enqueueWebhook(tx, ctx.webhooks ?? [], 'finding.raised', now, { finding });
  }
  return rows.map((r) => r.finding.id);
}

async function resolve(tx: TxPorts, batch: ReconcilePlan['resolve'], now: Date): Promise<number> {
  const at = now.toISOString();
  let resolved = 0;
  for (const r of batch) {
    const f = await tx.findings.get(r.findingId);
    if (!f || f.state === 'resolved') continue;
    const resolution = { by: 'countersign', reason: r.reason, at, automatic: true };
    // Resolved meanwhile by a person or another pass: theirs is the recorded resolution.
    if (!(await tx.findings.update(f.id, f.state, 'resolved', resolution, at))) continue;
    await record(tx, 'finding.resolved', now, 'countersign', findingLinks(f), {
      id: f.id,
      kind: f.kind,
      key: f.key,
      resolution,
    });
    resolved += 1;
  }
  return resolved;
}
