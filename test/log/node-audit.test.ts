import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditNodes, type HashRow, type NodeSource } from '../../src/log/node-audit.js';
import { buildStore, flipBit, type MemoryStore } from './reference.js';

const leafHashesOf = (n: number): Buffer[] =>
  Array.from({ length: n }, (_, i) => createHash('sha256').update(`leaf ${i}`).digest());

/** How many nodes `size` leaves make complete, leaves included. */
const expectedCount = (size: number): number => {
  let total = 0;
  for (let width = 1; width <= size; width *= 2) total += Math.floor(size / width);
  return total;
};

/** A node source over an in-memory tree, paged as a store pages it. */
function sourceOf(leaves: readonly Buffer[], nodes: MemoryStore): NodeSource {
  const page = (rows: HashRow[], from: number, limit: number) =>
    rows.filter((r) => r.index >= from).slice(0, limit);
  const level = (l: number): HashRow[] =>
    [...nodes]
      .map(([key, hash]) => ({ key: key.split('/').map(Number) as [number, number], hash }))
      .filter(({ key }) => key[0] === l)
      .map(({ key, hash }) => ({ index: key[1], hash: hash.toString('hex') }))
      .sort((a, b) => a.index - b.index);
  const leafRows = leaves.map((h, index) => ({ index, hash: h.toString('hex') }));
  return {
    leafHashes: (from, limit) => Promise.resolve(page(leafRows, from, limit)),
    nodes: (l, from, limit) => Promise.resolve(page(level(l), from, limit)),
    count: () => Promise.resolve(nodes.size),
  };
}

describe('auditNodes', () => {
  it('checks every node the leaves make complete and finds nothing wrong in an honest tree', async () => {
    for (const size of [0, 1, 2, 3, 7, 8, 13, 64, 100]) {
      const leaves = leafHashesOf(size);
      const audit = await auditNodes(sourceOf(leaves, buildStore(leaves)), size);
      expect(audit).toEqual({ checked: expectedCount(size), total: 0, problems: [] });
    }
  });

  it('reads across pages of rows', async () => {
    const leaves = leafHashesOf(6_000);
    const audit = await auditNodes(sourceOf(leaves, buildStore(leaves)), leaves.length);
    expect(audit.total).toBe(0);
    expect(audit.checked).toBe(expectedCount(6_000));
  });

  it('names exactly the one node changed, wherever it is, without blaming its parents', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 200 }),
        fc.nat(),
        fc.nat(255),
        async (size, pick, bit) => {
          const leaves = leafHashesOf(size);
          const nodes = buildStore(leaves);
          const keys = [...nodes.keys()];
          const key = keys[pick % keys.length] as string;
          nodes.set(key, flipBit(nodes.get(key) as Buffer, bit));
          const audit = await auditNodes(sourceOf(leaves, nodes), size);
          expect(audit.total).toBe(1);
          expect(audit.problems[0]?.detail).toBe(
            `the stored subtree hash ${key} is not the one its leaves give`,
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('reports a node that is not stored, and nodes stored beyond the leaves', async () => {
    const leaves = leafHashesOf(10);
    const nodes = buildStore(leaves);
    nodes.delete('1/2');
    nodes.set('0/10', Buffer.alloc(32));
    nodes.set('3/1', Buffer.alloc(32));
    const audit = await auditNodes(sourceOf(leaves, nodes), 10);
    expect(audit.problems).toEqual([
      { level: 1, index: 2, detail: 'the subtree hash 1/2 is not stored' },
      {
        level: -1,
        index: 10,
        detail: '2 stored subtree hash(es) lie beyond the 10 leaves of the log',
      },
    ]);
  });

  it('lists at most the limit given, and counts the rest', async () => {
    const leaves = leafHashesOf(16);
    const nodes = buildStore(leaves);
    for (const key of ['0/1', '0/5', '0/9', '2/3']) nodes.set(key, Buffer.alloc(32));
    const audit = await auditNodes(sourceOf(leaves, nodes), 16, 2);
    expect(audit.total).toBe(4);
    expect(audit.problems.map((p) => `${p.level}/${p.index}`)).toEqual(['0/1', '0/5']);
  });
});
