/**
 * Compares the rows the server keeps with the state the log implies (see derive.ts).
 * The log wins: a row that disagrees was changed outside the server, or by a fault.
 */
import { canonicalJson } from '../core/canonical.js';
import type { DerivedRecord, DerivedState, DerivedWarrant } from './derive.js';

export const STATE_DIVERGENCE_KINDS = [
  /** A row differs from what the log implies, or exists on one side only. */
  'STATE_DIVERGES',
  /** The allowed redemptions of a warrant do not carry uses 1, 2, 3 … in log order. */
  'USE_CHAIN_BROKEN',
  /** The log holds more allowed redemptions of a warrant than its signed max_uses. */
  'USES_EXCEED_SIGNED_MAX',
  /** The log holds an event its record's state machine does not allow where it stands. */
  'LOG_TRANSITION_INVALID',
  /** A stored subtree hash (proofs are built from them) is not the one the leaves give. */
  'NODE_HASH_MISMATCH',
] as const;
export type StateDivergenceKind = (typeof STATE_DIVERGENCE_KINDS)[number];

export interface StateDivergence {
  readonly kind: StateDivergenceKind;
  readonly record:
    | 'warrant'
    | 'request'
    | 'finding'
    | 'decision'
    | 'redemption'
    | 'fulfilment'
    | 'observation'
    | 'event'
    | 'key'
    | 'node';
  readonly id: string;
  /** The leaf index that proves the log's side, or null when the log has none. */
  readonly index: number | null;
  readonly detail: string;
}

export interface WarrantRow {
  readonly id: string;
  readonly requestId: string;
  readonly uses: number;
  readonly maxUses: number;
  readonly state: string;
  /** The claims column, as stored (JSON text). */
  readonly claims: string;
}

export interface StateRow {
  readonly id: string;
  readonly state: string;
}

export interface StateRows {
  readonly warrants: readonly WarrantRow[];
  readonly requests: readonly StateRow[];
  readonly findings: readonly StateRow[];
  /** Signing keys by kid, with their state. */
  readonly keys: readonly StateRow[];
}

function canonicalText(value: unknown): string | null {
  try {
    return canonicalJson(value);
  } catch {
    return null;
  }
}

function parsedCanonical(text: string): string | null {
  try {
    return canonicalText(JSON.parse(text));
  } catch {
    return null;
  }
}

/** What is wrong with one warrant's redemptions in the log alone. */
function chainProblems(w: DerivedWarrant, out: StateDivergence[]): void {
  const at = (i: number): number => w.uses[i]?.index ?? w.index;
  const broken = w.uses.findIndex((u, i) => u.use !== i + 1);
  if (broken >= 0) {
    out.push({
      kind: 'USE_CHAIN_BROKEN',
      record: 'warrant',
      id: w.id,
      index: at(broken),
      detail: `allowed redemption ${broken + 1} of warrant ${w.id} carries use ${w.uses[broken]?.use ?? 'none'}`,
    });
  }
  if (w.maxUses !== null && w.uses.length > w.maxUses) {
    out.push({
      kind: 'USES_EXCEED_SIGNED_MAX',
      record: 'warrant',
      id: w.id,
      index: at(w.maxUses),
      detail: `warrant ${w.id} was redeemed ${w.uses.length} times; it was signed for ${w.maxUses}`,
    });
  }
}

function warrantProblems(row: WarrantRow, w: DerivedWarrant | undefined): string[] {
  if (w === undefined) return [`warrant ${row.id} is in the table but was never issued in the log`];
  const problems: string[] = [];
  const uses = w.uses.length;
  if (row.uses !== uses) {
    problems.push(`warrant ${row.id} uses ${row.uses} in the table, ${uses} in the log`);
  }
  if (row.maxUses !== w.maxUses) {
    problems.push(
      `warrant ${row.id} max_uses ${row.maxUses} in the table, ${w.maxUses ?? 'none'} signed`,
    );
  }
  const state = w.revoked ? 'revoked' : 'active';
  if (row.state !== state) {
    problems.push(`warrant ${row.id} is ${row.state} in the table, ${state} in the log`);
  }
  if (row.requestId !== w.requestId) {
    problems.push(`warrant ${row.id} belongs to another request in the table than in the log`);
  }
  const signed = canonicalText(w.claims);
  if (signed === null || parsedCanonical(row.claims) !== signed) {
    problems.push(`warrant ${row.id} claims in the table differ from the issued claims`);
  }
  return problems;
}

function recordProblems<S extends string>(
  record: 'request' | 'finding',
  rows: readonly StateRow[],
  derived: ReadonlyMap<string, DerivedRecord<S>>,
  out: StateDivergence[],
): void {
  const seen = new Set<string>();
  for (const row of rows) {
    seen.add(row.id);
    const d = derived.get(row.id);
    if (d === undefined) {
      out.push({
        kind: 'STATE_DIVERGES',
        record,
        id: row.id,
        index: null,
        detail: `${record} ${row.id} is in the table but not in the log`,
      });
    } else if (d.state !== row.state) {
      out.push({
        kind: 'STATE_DIVERGES',
        record,
        id: row.id,
        index: d.index,
        detail: `${record} ${row.id} is ${row.state} in the table, ${d.state} in the log`,
      });
    }
  }
  for (const [id, d] of derived) {
    if (seen.has(id)) continue;
    out.push({
      kind: 'STATE_DIVERGES',
      record,
      id,
      index: d.index,
      detail: `${record} ${id} is in the log but missing from the table`,
    });
  }
}

/**
 * A key the log revoked must be revoked in the table: the server reads its key ring from
 * there, so a revocation undone in the table would let the key's warrants be redeemed again.
 */
function revocationProblems(
  keys: readonly StateRow[],
  revoked: ReadonlyMap<string, number>,
  out: StateDivergence[],
): void {
  const states = new Map(keys.map((k) => [k.id, k.state]));
  for (const [kid, index] of revoked) {
    const state = states.get(kid);
    if (state === 'revoked') continue;
    out.push({
      kind: 'STATE_DIVERGES',
      record: 'key',
      id: kid,
      index,
      detail: `key ${kid} is revoked in the log but ${state ?? 'missing'} in the table`,
    });
  }
}

/** Every disagreement between the rows and the log, warrants first. */
export function compareState(derived: DerivedState, rows: StateRows): StateDivergence[] {
  const out: StateDivergence[] = [];
  const seen = new Set<string>();
  for (const row of rows.warrants) {
    seen.add(row.id);
    const w = derived.warrants.get(row.id);
    for (const detail of warrantProblems(row, w)) {
      out.push({
        kind: 'STATE_DIVERGES',
        record: 'warrant',
        id: row.id,
        index: w?.index ?? null,
        detail,
      });
    }
  }
  for (const w of derived.warrants.values()) {
    chainProblems(w, out);
    if (!seen.has(w.id)) {
      out.push({
        kind: 'STATE_DIVERGES',
        record: 'warrant',
        id: w.id,
        index: w.index,
        detail: `warrant ${w.id} is in the log but missing from the table`,
      });
    }
  }
  recordProblems('request', rows.requests, derived.requests, out);
  recordProblems('finding', rows.findings, derived.findings, out);
  revocationProblems(rows.keys, derived.keyRevocations, out);
  for (const e of derived.illegal) {
    out.push({
      kind: 'LOG_TRANSITION_INVALID',
      record: 'event',
      id: String(e.index),
      index: e.index,
      detail: e.detail,
    });
  }
  return out;
}
