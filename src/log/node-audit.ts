/**
 * Checks the stored subtree hashes that inclusion and consistency proofs are built from
 * against the leaves. A proof from a wrong node never verifies against a signed root, so
 * such a row cannot forge anything; but it makes every proof through it fail, and only
 * this check would say why before a client does.
 */
import { sameHash } from './chunk.js';
import { LogError } from './errors.js';
import { nodeHash } from './hash.js';

/** One stored hash: a leaf's (by leaf index) or a node's (by index on its level), in hex. */
export interface HashRow {
  readonly index: number;
  readonly hash: string;
}

/** Where the check reads, each in pages in index order. */
export interface NodeSource {
  /** The leaf hashes of the integrated entries with index >= `from`. */
  leafHashes(from: number, limit: number): Promise<readonly HashRow[]>;
  /** The stored nodes of `level` with index >= `from`. */
  nodes(level: number, from: number, limit: number): Promise<readonly HashRow[]>;
  /** How many nodes are stored on each level that has any. */
  levels(): Promise<readonly { readonly level: number; readonly count: number }[]>;
}

export interface NodeProblem {
  readonly level: number;
  /** The node's index on its level; -1 for rows beyond the log. */
  readonly index: number;
  readonly detail: string;
}

export interface NodeAudit {
  /** Nodes the leaves imply, each found stored with that hash or reported. */
  readonly checked: number;
  /** Every problem found, listed up to the limit given. */
  readonly total: number;
  readonly problems: readonly NodeProblem[];
}

/** Leaves checked per block: below this level a block's nodes are read as runs. */
const BLOCK_LEVELS = 12;
const BLOCK = 2 ** BLOCK_LEVELS;
/** Rows per read of the few nodes above the blocks. */
const PAGE = 1_000;

/** Reads one level's rows a page at a time, in index order. */
class PagedRows {
  #page: readonly HashRow[] = [];
  #at = 0;
  #from = 0;
  #done = false;

  constructor(
    private readonly read: (from: number, limit: number) => Promise<readonly HashRow[]>,
    private readonly size: number,
  ) {}

  /** The row at `index`, or null when none is stored there (rows before it are skipped). */
  async find(index: number): Promise<HashRow | null> {
    for (;;) {
      while (this.#at < this.#page.length) {
        const row = this.#page[this.#at] as HashRow;
        if (row.index > index) return null;
        this.#at += 1;
        if (row.index === index) return row;
      }
      if (this.#done) return null;
      this.#page = await this.read(this.#from, this.size);
      this.#at = 0;
      this.#done = this.#page.length < this.size;
      this.#from = (this.#page.at(-1)?.index ?? this.#from) + 1;
    }
  }
}

/** What the check found so far. */
class Tally {
  readonly problems: NodeProblem[] = [];
  total = 0;
  checked = 0;
  /** Stored nodes found where the leaves imply one, by level. */
  readonly found: number[] = [];

  constructor(private readonly max: number) {}

  /** Compares a node's stored row (or none) with the hash its leaves give. */
  compare(level: number, index: number, stored: HashRow | null, hash: Buffer): void {
    this.checked += 1;
    if (stored === null) {
      this.report({ level, index, detail: `the subtree hash ${level}/${index} is not stored` });
      return;
    }
    this.found[level] = (this.found[level] ?? 0) + 1;
    if (!sameHash(stored.hash, hash.toString('hex'))) {
      this.report({
        level,
        index,
        detail: `the stored subtree hash ${level}/${index} is not the one its leaves give`,
      });
    }
  }

  report(p: NodeProblem): void {
    this.total += 1;
    if (this.problems.length < this.max) this.problems.push(p);
  }
}

/** The hashes of each pair of `hashes`, in order (an odd last one has no parent yet). */
function parents(hashes: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < hashes.length; i += 2) {
    out.push(nodeHash(hashes[i] as Buffer, hashes[i + 1] as Buffer));
  }
  return out;
}

/** Compares a run of one level's nodes, `from` onwards, with their rows read in one query. */
async function compareRun(
  source: NodeSource,
  tally: Tally,
  level: number,
  from: number,
  hashes: readonly Buffer[],
): Promise<void> {
  const rows = await source.nodes(level, from, hashes.length);
  let r = 0;
  hashes.forEach((hash, i) => {
    const row = rows[r];
    const here = row?.index === from + i ? row : null;
    if (here !== null) r += 1;
    tally.compare(level, from + i, here, hash);
  });
}

/**
 * Every node the first `size` leaves make complete (leaves as level 0 included), computed
 * from the leaf hashes and compared with the stored one; then the count, since a stored node
 * the leaves do not imply would refuse the integration that reaches it. The leaf hashes
 * must already be checked (`auditLog`).
 *
 * Leaves go in aligned blocks of 4,096: each level of a block is one read of a run of rows,
 * and the block's root joins the few nodes above through one slot per level. Each row is
 * read once. A wrong node is reported and its correct hash carried upwards, so one bad row
 * is one problem.
 */
export async function auditNodes(
  source: NodeSource,
  size: number,
  opts: { readonly max?: number; readonly page?: number } = {},
): Promise<NodeAudit> {
  const tally = new Tally(opts.max ?? 100);
  const page = opts.page ?? PAGE;
  const above: PagedRows[] = [];
  const left: Buffer[] = [];
  const carry = async (level: number, index: number, hash: Buffer): Promise<void> => {
    const rows = (above[level] ??= new PagedRows(
      (from, limit) => source.nodes(level, from, limit),
      page,
    ));
    tally.compare(level, index, await rows.find(index), hash);
    if (index % 2 === 0) left[level] = hash;
    else await carry(level + 1, (index - 1) / 2, nodeHash(left[level] as Buffer, hash));
  };

  for (let begin = 0; begin < size; begin += BLOCK) {
    const count = Math.min(BLOCK, size - begin);
    const leaves = await source.leafHashes(begin, count);
    // The log audit read every leaf up to `size` from the same snapshot.
    if (leaves.length !== count || leaves.some((l, i) => l.index !== begin + i)) {
      throw new LogError('LOG_INCONSISTENT', `the leaves from ${begin} are not all stored`);
    }
    let hashes: Buffer[] = leaves.map((l) => Buffer.from(l.hash, 'hex'));
    let level = 0;
    for (; level < BLOCK_LEVELS && hashes.length > 0; level += 1) {
      await compareRun(source, tally, level, begin / 2 ** level, hashes);
      hashes = parents(hashes);
    }
    if (level === BLOCK_LEVELS && hashes.length === 1) {
      await carry(level, begin / BLOCK, hashes[0] as Buffer);
    }
  }
  // Every stored node not found above lies past the leaves: each level was read in full.
  for (const { level, count } of await source.levels()) {
    const beyond = count - (tally.found[level] ?? 0);
    if (beyond > 0) {
      tally.report({
        level,
        index: -1,
        detail: `${beyond} stored subtree hash(es) on level ${level} lie beyond the ${size} leaves of the log`,
      });
    }
  }
  return { checked: tally.checked, total: tally.total, problems: tally.problems };
}
