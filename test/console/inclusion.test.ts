import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyEntryInclusion, type LogSource } from '../../console/src/lib/inclusion.js';
import { signCheckpoint } from '../../src/log/checkpoint.js';
import { encodeEvent } from '../../src/log/event.js';
import { NoteSigner } from '../../src/log/note.js';
import { inclusionCompute, inclusionPlan, rootCompute, rootPlan } from '../../src/log/tree.js';
import { buildStore, read } from '../log/reference.js';

const ORIGIN = 'countersign.test/log';

/** A log made with the server's own code, answering as src/http/routes/log.ts does. */
function log(n: number) {
  const signer = new NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
  const events = Array.from({ length: n }, (_, i) =>
    encodeEvent({
      v: 1,
      type: i === 0 ? 'request.created' : 'decision.approved',
      at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      actor: i % 2 === 0 ? 'alice' : 'bob \u202e evil',
      links: { request: `sha256:${'a'.repeat(64)}` },
      data: { i },
    }),
  );
  const hashes = events.map((e) => Buffer.from(e.leafHash, 'hex'));
  const store = buildStore(hashes);
  const root = rootCompute(n, read(store, rootPlan(n), n));
  const source: LogSource & { note: string } = {
    note: signCheckpoint({ origin: ORIGIN, size: n, rootHash: root }, signer),
    verifierKeys: async () => ({
      origin: ORIGIN,
      keys: [{ kid: 'k1', verifierKey: signer.verifierKey(), state: 'active' }],
    }),
    checkpoint: async () => source.note,
    inclusionProof: async (index, size) => ({
      index,
      size,
      leafHash: hashes[index]!.toString('base64'),
      proof: inclusionCompute(index, size, read(store, inclusionPlan(index, size), size)).map((h) =>
        h.toString('base64'),
      ),
    }),
  };
  return { events, source };
}

describe('verify inclusion, in the browser, against the server log code', () => {
  it('passes for every entry of a 13-entry log', async () => {
    const { events, source } = log(13);
    for (const [index, e] of events.entries()) {
      const r = await verifyEntryInclusion({ index, leaf: e.leaf }, source);
      expect(r.ok, JSON.stringify(r.checks)).toBe(true);
      expect(r.treeSize).toBe(13);
    }
  });

  it('fails for an altered leaf, a wrong index, a forged checkpoint or an unknown key', async () => {
    const { events, source } = log(5);
    const leaf = events[2]!.leaf;
    expect(
      (await verifyEntryInclusion({ index: 2, leaf: leaf.replace('alice', 'mallory') }, source)).ok,
    ).toBe(false);
    expect((await verifyEntryInclusion({ index: 3, leaf }, source)).ok).toBe(false);
    expect((await verifyEntryInclusion({ index: 9, leaf }, source)).ok).toBe(false);
    const forged = { ...source, checkpoint: async () => source.note.replace('\n5\n', '\n6\n') };
    expect((await verifyEntryInclusion({ index: 2, leaf }, forged)).ok).toBe(false);
    const other = new NoteSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
    const stranger = {
      ...source,
      verifierKeys: async () => ({
        origin: ORIGIN,
        keys: [{ verifierKey: other.verifierKey(), state: 'active' }],
      }),
    };
    const r = await verifyEntryInclusion({ index: 2, leaf }, stranger);
    expect(r.ok).toBe(false);
    expect(r.checks.at(-1)?.label).toMatch(/Checkpoint signature/);
    const revoked = {
      ...source,
      verifierKeys: async () => ({ origin: ORIGIN, keys: [{ verifierKey: 'x', state: 'active' }] }),
    };
    expect((await verifyEntryInclusion({ index: 2, leaf }, revoked)).ok).toBe(false);
  });

  it('fails when the served proof does not lead to the root', async () => {
    const { events, source } = log(8);
    const lying = {
      ...source,
      inclusionProof: async (index: number, size: number) => {
        const a = (await source.inclusionProof(index, size)) as { proof: string[] };
        return { ...a, proof: [...a.proof].reverse() };
      },
    };
    expect((await verifyEntryInclusion({ index: 1, leaf: events[1]!.leaf }, lying)).ok).toBe(false);
  });
});
