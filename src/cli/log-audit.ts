/**
 * `log verify`: the log of a database read directly, or of a running server over HTTP,
 * audited against pinned keys (or, said plainly, the source's own).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { auditLog } from '../log/audit.js';
import { type AuditEntry, type AuditReport } from '../log/audit-types.js';
import type { TrustedLogKey } from '../log/trusted-key.js';
import { StateReplay } from '../replay/derive.js';
import type { StoreAuditReport } from '../service/audit-log.js';
import { trustedLogKeys, type VerifierKeys } from '../trust/trust-file.js';
import type { CountersignClient } from '../client/index.js';
import type { PinnedTrust } from './trust-options.js';
import { CliError, EXIT } from './errors.js';

const PAGE = 1000;

export interface LogVerifyReport extends AuditReport {
  readonly origin: string;
  /** Whose keys checked the checkpoints: pinned by the auditor, or the source's own. */
  readonly trust: 'pinned' | 'store' | 'server';
  readonly state: StoreAuditReport['state'];
  /** What this run could not check, in words (empty when it checked everything). */
  readonly unchecked: readonly string[];
}

export function progress(): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => undefined;
  return (done, total) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    if (done >= total) process.stderr.write('\n');
  };
}

/** The database a verify reads: `--database URL`, or the SQLite file of `--data DIR`. */
const databaseOf = (source: { data?: string; database?: string }): string =>
  source.database ?? `sqlite:${join(source.data ?? '.', 'countersign.db')}`;

export async function auditDatabase(
  source: { data?: string; database?: string },
  pinned: PinnedTrust,
  origin: string | undefined,
): Promise<LogVerifyReport> {
  const { auditStore } = await import('../service/audit-log.js');
  // Loaded lazily: other commands do not load the database drivers.
  const { isPostgresUrl, openReadOnlyStore, sqliteFile } = await import('../store/open.js');
  const url = databaseOf(source);
  // A path that names no database is a mistake in the command, not a server failure.
  if (!isPostgresUrl(url) && !existsSync(sqliteFile(url))) {
    throw new CliError(`no SQLite database at ${sqliteFile(url)}`, EXIT.usage);
  }
  const store = await openReadOnlyStore(url);
  try {
    const report = await auditStore(store, {
      ...(pinned.keys ? { keys: pinned.keys } : {}),
      ...(origin ? { origin } : {}),
      onProgress: progress(),
    });
    // The database of a restore must not pass where the same log served would not.
    const checked = report.ok ? { ...report, ...notShorterThanPinned(report, pinned) } : report;
    return { ...checked, unchecked: [] };
  } finally {
    await store.close();
  }
}

/** Every checkpoint the server has stored, in pages (auditor or admin). */
async function fetchCheckpoints(client: CountersignClient): Promise<string[]> {
  const notes: string[] = [];
  for (let start = 0; ;) {
    const { checkpoints } = await client.request<{ checkpoints: { size: number; note: string }[] }>(
      'GET',
      `/v1/log/checkpoints?start=${start}&limit=${PAGE}`,
    );
    notes.push(...checkpoints.map((c) => c.note));
    const last = checkpoints.at(-1);
    if (checkpoints.length < PAGE || last === undefined) return notes;
    start = last.size + 1;
  }
}

/**
 * @param expected the origin the checkpoints must name (`--origin`, or the trust file's);
 *   without one, the server's own.
 */
export async function auditServer(
  client: CountersignClient,
  pinned: PinnedTrust,
  expected?: string,
): Promise<LogVerifyReport> {
  const latest = await client.request<string>('GET', '/v1/log/checkpoint', undefined, {
    responseType: 'text',
  });
  const origin = expected ?? latest.split('\n')[0] ?? '';
  let keys: readonly TrustedLogKey[] | undefined = pinned.keys;
  if (keys === undefined) {
    const published = await client.request<VerifierKeys>('GET', '/v1/log/verifier-keys');
    keys = trustedLogKeys(published.keys, published.origin);
  }
  const checkpoints = await fetchCheckpoints(client);
  if (!checkpoints.includes(latest)) checkpoints.push(latest);
  const size = Math.max(...checkpoints.map((n) => Number(n.split('\n')[1] ?? 0)));
  const replay = new StateReplay();
  async function* pages(): AsyncGenerator<readonly AuditEntry[]> {
    for (let start = 0; start < size; start += PAGE) {
      const page = await client.request<{ entries: AuditEntry[] }>(
        'GET',
        `/v1/log/entries?start=${start}&end=${Math.min(size, start + PAGE)}`,
      );
      for (const e of page.entries) replay.apply(e.index, e.leaf);
      yield page.entries;
    }
  }
  const report = await auditLog({
    pages: pages(),
    checkpoints,
    keys,
    revoked: replay.keyRevocations,
    origin,
    onProgress: progress(),
  });
  return {
    ...(report.ok ? notShorterThanPinned(report, pinned) : report),
    origin,
    trust: pinned.keys ? 'pinned' : 'server',
    state: null,
    unchecked: ['the tables behind the log (the state audit needs --data or --database)'],
  };
}

/**
 * A pinned key revoked at entry N means the log held entry N when the trust was exported:
 * a log shorter than that was cut back (a restore, or a server showing an old copy).
 */
function notShorterThanPinned(report: AuditReport, pinned: PinnedTrust): AuditReport {
  const revoked = (pinned.keys ?? []).flatMap((k) =>
    typeof k.revokedAtIndex === 'number' ? [k.revokedAtIndex] : [],
  );
  const needed = revoked.length === 0 ? 0 : Math.max(...revoked) + 1;
  if (report.size >= needed) return report;
  return {
    ...report,
    ok: false,
    divergence: {
      kind: 'ENTRIES_MISSING',
      index: report.size,
      detail: `the pinned trust knows a key revoked at entry ${needed - 1}, but the log holds ${report.size} entries: it was cut back`,
    },
  };
}

/** The human rendering of a verify: the verdict, then each state divergence on its line. */
export function renderLogVerify(r: LogVerifyReport): string {
  if (!r.ok) {
    const d = r.divergence;
    return `log DIVERGES at entry ${d?.index}: ${d?.kind}: ${d?.detail}`;
  }
  const keys =
    r.trust === 'pinned'
      ? 'pinned keys'
      : `the ${r.trust}'s own keys (pin them: --trust FILE from \`countersign trust export\`)`;
  const lines = [
    `log OK: ${r.entries} entries, ${r.checkpoints} checkpoint(s) verified against ${keys}, tree size ${r.size} (${r.origin})`,
  ];
  const s = r.state;
  if (s !== null && s.ok) {
    lines.push(
      `state OK: ${s.warrants} warrants, ${s.requests} requests, ${s.findings} findings, ` +
        `${s.records.decisions} decisions, ${s.records.redemptions} redemptions, ` +
        `${s.records.fulfilments} fulfilments, ${s.records.observations} observations ` +
        `and ${s.nodes} subtree hashes agree with the log` +
        (s.queued > 0 ? ` (with ${s.queued} queued events)` : ''),
    );
  } else if (s !== null) {
    lines.push(`state DIVERGES: ${s.total} row(s) disagree with the log`);
    for (const d of s.divergences) lines.push(`${d.kind}: ${d.detail}`);
    if (s.total > s.divergences.length) lines.push(`… and ${s.total - s.divergences.length} more`);
  }
  for (const u of r.unchecked) lines.push(`not checked: ${u}`);
  return lines.join('\n');
}
