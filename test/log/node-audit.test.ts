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
  const byLevel = new Map<number, HashRow[]>();
  for (const [key, hash] of nodes) {
    const [l, index] = key.split('/').map(Number) as [number, number];
    const rows = byLevel.get(l) ?? [];
    rows.push({ index, hash: hash.toString('hex') });
    byLevel.set(l, rows);
  }
  for (const rows of byLevel.values()) rows.sort((x, y) => x.index - y.index);
  const level = (l: number): HashRow[] => byLevel.get(l) ?? [];
  const leafRows = leaves.map((h, index) => ({ index, hash: h.toString('hex') }));
  return {
    leafHashes: (from, limit) => Promise.resolve(page(leafRows, from, limit)),
    nodes: (l, from, limit) => Promise.resolve(page(level(l), from, limit)),
    levels: () =>
      Promise.resolve([...byLevel].map(([level, rows]) => ({ level, count: rows.length }))),
  };
}

/** Memoised: the large trees are built once for the whole file. */
const trees = new Map<number, { leaves: Buffer[]; nodes: MemoryStore }>();
const treeOf = (size: number) => {
  let t = trees.get(size);
  if (t === undefined) {
    const leaves = leafHashesOf(size);
    t = { leaves, nodes: buildStore(leaves) };
    trees.set(size, t);
  }
  return { leaves: t.leaves, nodes: new Map(t.nodes) };
};

/** The audit of a tree of `size` leaves after `edit` changed its stored nodes. */
async function auditEdited(size: number, edit: (nodes: MemoryStore) => void, page?: number) {
  const { leaves, nodes } = treeOf(size);
  edit(nodes);
  return auditNodes(sourceOf(leaves, nodes), size, page === undefined ? {} : { page });
}

describe('auditNodes', () => {
  it('checks every node the leaves make complete and finds nothing wrong in an honest tree', async () => {
    // Around the blocks of 4,096 leaves, and with nodes above them (levels 13 and 14).
    const sizes = [0, 1, 2, 3, 7, 8, 13, 64, 100, 4095, 4096, 4097, 8192, 8193, 12288, 16385];
    for (const size of sizes) {
      const audit = await auditEdited(size, () => undefined);
      expect(audit, `size ${size}`).toEqual({
        checked: expectedCount(size),
        total: 0,
        problems: [],
      });
    }
  });

  it('finds one changed or missing node at or above the blocks as exactly one problem', async () => {
    const cases: [string, (nodes: MemoryStore, key: string) => void, string][] = [
      [
        'changed',
        (nodes, key) => nodes.set(key, Buffer.alloc(32)),
        'is not the one its leaves give',
      ],
      ['missing', (nodes, key) => nodes.delete(key), 'is not stored'],
    ];
    for (const [what, edit, says] of cases) {
      for (const key of ['11/7', '12/1', '12/3', '13/0', '13/1', '14/0', '0/16384']) {
        const audit = await auditEdited(16_385, (nodes) => edit(nodes, key));
        expect(audit.total, `${what} ${key}`).toBe(1);
        expect(audit.problems[0]?.detail).toMatch(new RegExp(`${key} ${says}$`));
      }
    }
  });

  it('pages through the nodes above the blocks', async () => {
    const size = 5 * 4096 + 3;
    expect((await auditEdited(size, () => undefined, 2)).total).toBe(0);
    const changed = await auditEdited(size, (nodes) => nodes.set('12/4', Buffer.alloc(32)), 2);
    expect(changed.problems.map((p) => `${p.level}/${p.index}`)).toEqual(['12/4']);
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

  it('reports a node that is not stored, and nodes stored beyond the leaves level by level', async () => {
    const audit = await auditEdited(10, (nodes) => {
      nodes.delete('1/2');
      for (const key of ['0/10', '0/11', '3/1', '40/0']) nodes.set(key, Buffer.alloc(32));
    });
    expect(audit.problems).toEqual([
      { level: 1, index: 2, detail: 'the subtree hash 1/2 is not stored' },
      {
        level: 0,
        index: -1,
        detail: '2 stored subtree hash(es) on level 0 lie beyond the 10 leaves of the log',
      },
      {
        level: 3,
        index: -1,
        detail: '1 stored subtree hash(es) on level 3 lie beyond the 10 leaves of the log',
      },
      {
        level: 40,
        index: -1,
        detail: '1 stored subtree hash(es) on level 40 lie beyond the 10 leaves of the log',
      },
    ]);
  });

  it('lists at most the limit given, and counts the rest', async () => {
    const leaves = leafHashesOf(16);
    const nodes = buildStore(leaves);
    for (const key of ['0/1', '0/5', '0/9', '2/3']) nodes.set(key, Buffer.alloc(32));
    const audit = await auditNodes(sourceOf(leaves, nodes), 16, { max: 2 });
    expect(audit.total).toBe(4);
    expect(audit.problems.map((p) => `${p.level}/${p.index}`)).toEqual(['0/1', '0/5']);
  });
});
