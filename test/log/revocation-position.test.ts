import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import { RootAccumulator } from '../../src/log/accumulator.js';
import { auditLog } from '../../src/log/audit.js';
import { type AuditEntry } from '../../src/log/audit-types.js';
import { signCheckpoint } from '../../src/log/checkpoint.js';
import { leafHashHex } from '../../src/log/hash.js';
import { NoteSigner } from '../../src/log/note.js';
import { StateReplay } from '../../src/replay/derive.js';
import { replayedPages } from '../../src/service/audit-log.js';
import { trustedLogKey } from '../../src/trust/trust-file.js';

const ORIGIN = 'countersign.test/revocation';
const signerA = new NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
const signerB = new NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
const keyA = trustedLogKey(signerA.verifierKey());
const keyB = trustedLogKey(signerB.verifierKey());

/** Ten events; entry 5 revokes key A. Times run backwards, so no clock can help. */
function makeLog(): { entries: AuditEntry[]; roots: Map<number, Buffer> } {
  const entries = Array.from({ length: 10 }, (_, i) => {
    const event = {
      v: 1,
      type: i === 5 ? 'key.revoked' : 'nhi.registered',
      at: new Date(Date.UTC(2030, 0, 1) - i * 60_000).toISOString(),
      actor: 'admin',
      links: {},
      data: i === 5 ? { kid: keyA.kid, reason: 'leaked' } : { n: i },
    };
    const leaf = canonicalJson(event);
    return { index: i, leaf, leafHash: leafHashHex(leaf) };
  });
  const roots = new Map<number, Buffer>();
  const acc = new RootAccumulator();
  for (const e of entries) {
    acc.push(Buffer.from(e.leafHash, 'hex'));
    roots.set(acc.size, acc.root());
  }
  return { entries, roots };
}

async function audit(signed: ReadonlyArray<[number, NoteSigner]>, pinned = [keyA, keyB]) {
  const { entries, roots } = makeLog();
  const checkpoints = signed.map(([size, signer]) =>
    signCheckpoint({ origin: ORIGIN, size, rootHash: roots.get(size) as Buffer }, signer),
  );
  const replay = new StateReplay();
  return auditLog({
    pages: replayedPages(async (from, limit) => entries.slice(from, from + limit), replay, 3),
    checkpoints,
    keys: pinned,
    revoked: replay.keyRevocations,
    origin: ORIGIN,
    hasher: null,
  });
}

describe('a revoked log key, judged by log position', () => {
  describe('when it signed trees that do not yet hold its revocation', () => {
    it('accepts them, up to and including the tree that ends just before the revocation', async () => {
      const report = await audit([
        [3, signerA],
        [5, signerA],
        [10, signerB],
      ]);
      expect(report).toMatchObject({ ok: true, checkpoints: 3, size: 10 });
    });
  });

  describe('when it signed a tree holding its own revocation', () => {
    it('refuses that checkpoint with CHECKPOINT_SIGNATURE_INVALID at its size', async () => {
      const report = await audit([
        [5, signerA],
        [6, signerA],
        [10, signerB],
      ]);
      expect(report.ok).toBe(false);
      expect(report.divergence).toEqual({
        kind: 'CHECKPOINT_SIGNATURE_INVALID',
        index: 6,
        detail: `the checkpoint of size 6 was signed by key ${keyA.kid} after its revocation at log index 5`,
      });
    });

    it('refuses it from a pinned revocation index too, before any entry is read', async () => {
      const pinnedA = { ...keyA, revokedAtIndex: 5 };
      const report = await audit([[8, signerA]], [pinnedA, keyB]);
      expect(report.divergence?.kind).toBe('CHECKPOINT_SIGNATURE_INVALID');
    });
  });

  describe('when only some pinned keys cover the history', () => {
    it('refuses a checkpoint by a key that is not pinned, at its size', async () => {
      const report = await audit(
        [
          [3, signerA],
          [10, signerB],
        ],
        [keyA],
      );
      expect(report.divergence).toMatchObject({ kind: 'CHECKPOINT_SIGNATURE_INVALID', index: 10 });
    });
  });
});
