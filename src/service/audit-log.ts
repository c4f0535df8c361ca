import { storedVerifierKeys } from './log-keys.js';
import { auditLog } from '../log/audit.js';
import { auditNodes, type NodeProblem } from '../log/node-audit.js';
import { type AuditEntry, type AuditReport } from '../log/audit-types.js';
import type { TrustedLogKey } from '../log/trusted-key.js';
import { compareState, type StateDivergence } from '../replay/compare.js';
import { RecordMatcher } from '../replay/compare-records.js';
import { StateReplay } from '../replay/derive.js';
import { RECORD_TABLES, type LoggedRecord, type RecordTable } from '../replay/records.js';
import type { ReadPorts, Store } from './ports/store.js';
import { trustedLogKey } from '../trust/trust-file.js';

// Pages of a few thousand rows: 50k-row pages of objects cost ~3 s of garbage collection per
// million entries, more than the hashing the worker threads take off the reading thread.
const PAGE = 5_000;
/** Divergences listed in a report; the count says how many there were in all. */
const MAX_LISTED = 100;

export interface StoreAuditOptions {
  /** Pinned log keys (the whole history); without them, every key the store holds. */
  readonly keys?: readonly TrustedLogKey[];
  readonly origin?: string;
  readonly onProgress?: (entries: number, total: number) => void;
}

/** The tables compared with the state the log implies. */
export interface StateAuditReport {
  readonly ok: boolean;
  readonly warrants: number;
  readonly requests: number;
  readonly findings: number;
  /** Rows of each record table (decisions, redemptions, fulfilments, observations) compared. */
  readonly records: Readonly<Record<RecordTable, number>>;
  /** Stored subtree hashes checked against the leaves. */
  readonly nodes: number;
  /** Events still queued for integration, folded in after the integrated ones. */
  readonly queued: number;
  /** How many disagreements there were; at most {@link MAX_LISTED} are listed. */
  readonly total: number;
  readonly divergences: readonly StateDivergence[];
}

export interface StoreAuditReport extends AuditReport {
  readonly origin: string;
  readonly trust: 'pinned' | 'store';
  /** Null when the log itself diverged: rows are only compared with a sound log. */
  readonly state: StateAuditReport | null;
}

/** A stored subtree hash that disagrees with the leaves, as the state audit lists it. */
const nodeDivergence = (p: NodeProblem): StateDivergence => ({
  kind: 'NODE_HASH_MISMATCH',
  record: 'node',
  id: p.index < 0 ? `${p.level}/beyond` : `${p.level}/${p.index}`,
  // The first leaf the node covers.
  index: p.index < 0 ? null : p.index * 2 ** p.level,
  detail: p.detail,
});

/** Pages of integrated entries, each entry also folded into `replay` as it is read. */
export async function* replayedPages(
  read: (from: number, limit: number) => Promise<readonly AuditEntry[]>,
  replay: StateReplay,
  page = PAGE,
): AsyncGenerator<readonly AuditEntry[]> {
  for (let from = 0; ;) {
    const entries = await read(from, page);
    for (const e of entries) replay.apply(e.index, e.leaf);
    yield entries;
    if (entries.length < page) return;
    from = (entries.at(-1)?.index ?? from) + 1;
  }
}

/** Divergences as they come: the first {@link MAX_LISTED} kept, all of them counted. */
class Divergences {
  readonly listed: StateDivergence[] = [];
  total = 0;

  add(found: readonly StateDivergence[]): void {
    this.total += found.length;
    for (const d of found) if (this.listed.length < MAX_LISTED) this.listed.push(d);
  }
}

/**
 * The record tables against the rows the log proves, a page at a time: these tables grow
 * with every redemption, so neither they nor their divergences are held whole.
 */
async function compareRecords(
  repo: ReadPorts,
  matcher: RecordMatcher,
  out: Divergences,
): Promise<Record<RecordTable, number>> {
  const counts = { decisions: 0, redemptions: 0, fulfilments: 0, observations: 0 };
  for (const table of RECORD_TABLES) {
    for (let after: string | null = null; ;) {
      const page = await repo.audit.recordPage(table, after, PAGE);
      out.add(await matcher.page(page));
      counts[table] += page.rows.length;
      const last = page.rows.at(-1);
      if (page.rows.length < PAGE || last === undefined) break;
      after = last.id;
    }
  }
  out.add(matcher.rest());
  return counts;
}

/**
 * Audits the log held in a store, in one consistent snapshot: every entry and every
 * stored checkpoint (a revoked key's checkpoints count up to its revocation's position
 * in the log), then the state audit: the rows of warrants, requests, findings, keys,
 * decisions, redemptions, fulfilments and observations against what the hashed leaves
 * imply.
 */
export async function auditStore(
  store: Store,
  opts: StoreAuditOptions = {},
): Promise<StoreAuditReport> {
  return store.snapshot((view) => auditView(view, opts));
}

async function auditView(repo: ReadPorts, opts: StoreAuditOptions): Promise<StoreAuditReport> {
  const checkpoints = await repo.log.checkpoints();
  const origin = opts.origin ?? checkpoints[0]?.note.split('\n')[0] ?? 'countersign.local/log';
  const keys =
    opts.keys ?? storedVerifierKeys(await repo.keys.list(), origin).map((k) => trustedLogKey(k));
  const replay = new StateReplay();
  const report = await auditLog({
    pages: replayedPages((from, limit) => repo.log.entryPage(from, limit), replay),
    checkpoints: checkpoints.map((c) => c.note),
    keys,
    revoked: replay.keyRevocations,
    origin,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  const trust = opts.keys ? 'pinned' : 'store';
  if (!report.ok) return { ...report, origin, trust, state: null };
  const queued = await repo.log.queuedEvents();
  for (const e of queued) replay.apply(-1, e.leaf, e.id);
  const rows = await repo.audit.stateRows();
  const derived = replay.result();
  const divergences = new Divergences();
  divergences.add(compareState(derived, rows));
  const queuedLeaves = new Map(queued.map((e) => [e.id, e.leaf]));
  const leafOf = async (r: LoggedRecord): Promise<string> =>
    r.index >= 0
      ? ((await repo.log.entryPage(r.index, 1))[0]?.leaf ?? 'null')
      : (queuedLeaves.get(r.queuedId ?? -1) ?? 'null');
  const matcher = new RecordMatcher(derived.records, leafOf);
  const records = await compareRecords(repo, matcher, divergences);
  const nodes = await auditNodes(repo.audit, report.size, { max: MAX_LISTED });
  divergences.add(nodes.problems.map(nodeDivergence));
  // auditNodes lists at most MAX_LISTED of its problems, and counts them all.
  const total = divergences.total - nodes.problems.length + nodes.total;
  const state: StateAuditReport = {
    ok: total === 0,
    warrants: rows.warrants.length,
    requests: rows.requests.length,
    findings: rows.findings.length,
    records,
    nodes: nodes.checked,
    queued: queued.length,
    total,
    divergences: divergences.listed,
  };
  return { ...report, origin, trust, state };
}
