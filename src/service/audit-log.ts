import { KeyRing, type SigningKeyRecord } from '../keys/keyring.js';
import { auditLog, type AuditEntry, type AuditReport } from '../log/audit.js';
import { NoteVerifier } from '../log/note.js';
import type { StoredCheckpoint } from '../store/log-repo.js';
import type { Repo } from '../store/store.js';

// Pages of a few thousand rows: 50k-row pages of objects cost ~3 s of garbage collection per
// million entries, more than the hashing the worker threads take off the reading thread.
const PAGE = 5_000;

export interface StoreAuditOptions {
  /** A pinned C2SP verifier key; without it, the store's own public keys are used. */
  readonly logKey?: string;
  readonly origin?: string;
  readonly onProgress?: (entries: number, total: number) => void;
}

/** Audits the log held in a store: every entry, every stored checkpoint. */
export async function auditStore(
  repo: Repo,
  opts: StoreAuditOptions = {},
): Promise<AuditReport & { origin: string; trust: 'pinned' | 'store' }> {
  const checkpoints = await repo.listCheckpoints();
  const origin = opts.origin ?? checkpoints[0]?.note.split('\n')[0] ?? 'countersign.local/log';
  const records = opts.logKey ? [] : await repo.listKeys();
  // A revoked key still vouches for the checkpoints it signed before its revocation
  // (their roots are recomputed from the leaves all the same); one it signed after
  // is refused outright.
  const late = checkpoints.find((c) => signedAfterRevocation(c, records));
  if (late) {
    return {
      ok: false,
      entries: 0,
      checkpoints: 0,
      size: 0,
      divergence: {
        kind: 'CHECKPOINT_SIGNATURE_INVALID',
        index: late.size,
        detail: `the checkpoint of size ${late.size} was signed by key ${late.kid} after its revocation`,
      },
      origin,
      trust: 'store',
    };
  }
  const keys = opts.logKey ? [opts.logKey] : KeyRing.publicVerifierKeys(records, origin, true);
  async function* pages(): AsyncGenerator<readonly AuditEntry[]> {
    for (let from = 0; ;) {
      const page = await repo.getEntryPage(from, PAGE);
      yield page;
      if (page.length < PAGE) return;
      from = (page.at(-1)?.index ?? from) + 1;
    }
  }
  const report = await auditLog({
    pages: pages(),
    checkpoints: checkpoints.map((c) => c.note),
    verifiers: keys.map((k) => NoteVerifier.fromVerifierKey(k.trim())),
    origin,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  return { ...report, origin, trust: opts.logKey ? 'pinned' : 'store' };
}

function signedAfterRevocation(
  checkpoint: StoredCheckpoint,
  keys: readonly SigningKeyRecord[],
): boolean {
  const key = keys.find((k) => k.kid === checkpoint.kid);
  return key !== undefined && key.revokedAt !== null && checkpoint.at >= key.revokedAt;
}
