import { existsSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RootAccumulator } from '../../src/log/accumulator.js';
import { auditLog } from '../../src/log/audit.js';
import { type AuditInput } from '../../src/log/audit-types.js';
import { type AuditEntry } from '../../src/log/audit-types.js';
import { inThreadHasher, WorkerHasher, type ChunkHasher } from '../../src/log/audit-pool.js';
import { signCheckpoint } from '../../src/log/checkpoint.js';
import { alignedPieces } from '../../src/log/chunk.js';
import { leafHashHex } from '../../src/log/hash.js';
import { NoteSigner, NoteVerifier } from '../../src/log/note.js';

const ORIGIN = 'countersign.test/audit';
const signer = new NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
const keys = [{ kid: 'k1', verifier: NoteVerifier.fromVerifierKey(signer.verifierKey()) }];

const leafText = (i: number): string =>
  JSON.stringify({ i, note: ['ascii', 'é', '漢字', '😀'][i % 4] });

interface Log {
  entries: AuditEntry[];
  checkpoints: string[];
}

/** A log of `n` honest entries with checkpoints at `sizes` (roots from the leaves). */
function makeLog(n: number, sizes: readonly number[]): Log {
  const entries = Array.from({ length: n }, (_, i) => {
    const leaf = leafText(i);
    return { index: i, leaf, leafHash: leafHashHex(leaf) };
  });
  const roots = new Map<number, Buffer>();
  const acc = new RootAccumulator();
  roots.set(0, acc.root());
  for (const e of entries) {
    acc.push(Buffer.from(e.leafHash, 'hex'));
    roots.set(acc.size, acc.root());
  }
  const checkpoints = sizes.map((size) =>
    signCheckpoint({ origin: ORIGIN, size, rootHash: roots.get(size) as Buffer }, signer),
  );
  return { entries, checkpoints };
}

async function* pagesOf(entries: readonly AuditEntry[], page: number) {
  for (let i = 0; i < entries.length; i += page) {
    await Promise.resolve();
    yield entries.slice(i, i + page);
  }
}

/** Runs answered out of order, to hold the in-order folding to account. */
const shuffledHasher: ChunkHasher = {
  size: 3,
  hash: async (chunk) => {
    await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));
    return inThreadHasher.hash(chunk);
  },
  close: () => Promise.resolve(),
};

function audit(log: Log, page: number, extra: Partial<AuditInput>) {
  const progress: number[] = [];
  return auditLog({
    pages: pagesOf(log.entries, page),
    checkpoints: log.checkpoints,
    keys,
    origin: ORIGIN,
    onProgress: (done) => progress.push(done),
    ...extra,
  });
}

type Tamper = (log: Log, at: number) => void;
const tampers: Record<string, Tamper> = {
  none: () => undefined,
  leaf: (log, at) => {
    const e = log.entries[at];
    if (e) log.entries[at] = { ...e, leaf: `${e.leaf} ` };
  },
  storedHash: (log, at) => {
    const e = log.entries[at];
    if (e) log.entries[at] = { ...e, leafHash: leafHashHex('other') };
  },
  upperHex: (log, at) => {
    const e = log.entries[at];
    if (e) log.entries[at] = { ...e, leafHash: e.leafHash.toUpperCase() };
  },
  oddHex: (log, at) => {
    const e = log.entries[at];
    if (e) log.entries[at] = { ...e, leafHash: `${e.leafHash}f` };
  },
  badHex: (log, at) => {
    const e = log.entries[at];
    if (e) log.entries[at] = { ...e, leafHash: `${e.leafHash.slice(0, 40)}zz` };
  },
  // Lone surrogates encode as U+FFFD on both paths (a string hashed vs bytes written).
  surrogate: (log, at) => {
    const leaf = `{"x":"\ud800${at}"}`;
    if (log.entries[at]) log.entries[at] = { index: at, leaf, leafHash: leafHashHex(leaf) };
  },
  delete: (log, at) => void log.entries.splice(at, 1),
  swap: (log, at) => {
    const [a, b] = [log.entries[at], log.entries[at + 1]];
    if (a && b) [log.entries[at], log.entries[at + 1]] = [b, a];
  },
  beyond: (log) => {
    const i = log.entries.length;
    log.entries.push({ index: i, leaf: leafText(i), leafHash: leafHashHex(leafText(i)) });
  },
  truncate: (log, at) => void log.entries.splice(at),
  wrongRoot: (log, at) => {
    const size = Math.min(at + 1, log.entries.length);
    log.checkpoints.push(
      signCheckpoint({ origin: ORIGIN, size, rootHash: Buffer.alloc(32, 7) }, signer),
    );
  },
};

describe('parallel log verify', () => {
  it('cuts a run into aligned perfect subtrees that cover it exactly', () => {
    fc.assert(
      fc.property(fc.nat(5000), fc.nat(5000), (a, len) => {
        let pos = a;
        for (const w of alignedPieces(a, a + len)) {
          expect(pos % w).toBe(0);
          expect(Math.log2(w) % 1).toBe(0);
          pos += w;
        }
        expect(pos).toBe(a + len);
      }),
    );
  });

  it('refuses a subtree that does not start at a multiple of its size', () => {
    const acc = new RootAccumulator();
    acc.push(Buffer.alloc(32));
    expect(() => acc.pushSubtree(Buffer.alloc(32), 2)).toThrow(/not aligned/);
    acc.push(Buffer.alloc(32));
    acc.pushSubtree(Buffer.alloc(32), 2);
    expect(acc.size).toBe(4);
  });

  it('reports exactly what the entry-by-entry pass reports, tampered or not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(150),
        fc.array(fc.nat(150), { maxLength: 30 }),
        fc.constantFrom(...Object.keys(tampers)),
        fc.nat(150),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        async (n, extra, tamper, where, chunkSize, page, shuffled) => {
          const sizes = [...new Set([...extra.map((s) => s % (n + 1)), n])];
          const log = makeLog(n, sizes);
          (tampers[tamper] as Tamper)(log, n === 0 ? 0 : where % n);
          const serial = await audit(log, page, { hasher: null });
          const parallel = await audit(log, page, {
            hasher: shuffled ? shuffledHasher : inThreadHasher,
            chunkSize,
          });
          expect(parallel).toEqual(serial);
          if (tamper === 'none' || tamper === 'upperHex') expect(serial.ok).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports progress up to the whole log', async () => {
    const log = makeLog(25_000, [25_000]);
    const seen: number[] = [];
    const report = await auditLog({
      pages: pagesOf(log.entries, 1000),
      checkpoints: log.checkpoints,
      keys,
      origin: ORIGIN,
      hasher: inThreadHasher,
      onProgress: (done) => seen.push(done),
    });
    expect(report.ok).toBe(true);
    expect(seen.at(-1)).toBe(25_000);
    expect(seen.length).toBeGreaterThan(1);
  });

  // The worker runs compiled code: this needs `npm run build`.
  const script = new URL('../../dist/log/audit-worker.js', import.meta.url);
  it.skipIf(!existsSync(script))('gives the same report through worker threads', async () => {
    const hasher = new WorkerHasher(2, script);
    try {
      for (const tamper of ['none', 'leaf', 'delete', 'wrongRoot']) {
        // Checkpoints as dense as a busy server signs them, and a few far apart.
        const dense = Array.from({ length: 300 }, (_, i) => 1 + i * 7);
        const log = makeLog(3000, [...dense, 2047, 3000]);
        (tampers[tamper] as Tamper)(log, 1500);
        const serial = await audit(log, 700, { hasher: null });
        expect(await audit(log, 700, { hasher, chunkSize: 256 })).toEqual(serial);
      }
    } finally {
      await hasher.close();
    }
  });
});
