import { canonicalJson } from '../core/canonical.js';
import type { Watermark } from './ports/reconciliation.js';

/**
 * The version of the rules' judgement. A pass made under other rules or parameters plans
 * every subject, so bump it whenever a rule changes what it raises or resolves.
 */
// 2: findings reopen (decision 0035), untargeted warrants cover `default` only (0036), and
// a caller's refusals with no warrant held count as REDEMPTION_ABUSE.
// 3: refusals after a person resolved a REDEMPTION_ABUSE raise its next occurrence (0037).
export const RULES_VERSION = 3;

/**
 * How often a pass plans every subject even when the watermark would let it plan fewer:
 * a bound on what a missed change could cost, at about one full pass an hour (20 s at
 * 100k warrants and 1M observations) against a pass a minute.
 */
export const FULL_PASS_EVERY_MS = 60 * 60 * 1000;

/** What a pass judges with, besides the store: passes under different ones plan everything. */
export const judgedWith = (driftGraceMs: number | undefined): string =>
  canonicalJson({ rules: RULES_VERSION, driftGraceMs: driftGraceMs ?? null });

/**
 * Where an incremental pass starts (docs/decisions/0029): after the last complete pass's
 * reach, or null for a pass over every subject. That is the first pass, a pass under other
 * rules or parameters, one whose clock is behind the last pass's (a change could fall
 * between the two instants unseen) and one an hour after the last full pass.
 */
export function incrementalFrom(
  mark: Watermark | null,
  now: Date,
  params: string,
): { readonly treeSize: number; readonly at: string } | null {
  if (mark === null || mark.params !== params) return null;
  const t = now.getTime();
  if (t < Date.parse(mark.at) || t - Date.parse(mark.fullAt) >= FULL_PASS_EVERY_MS) return null;
  return { treeSize: mark.treeSize, at: mark.at };
}
