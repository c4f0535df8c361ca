import {
  EVIDENCE_ROLES,
  type EvidenceRole,
  type FindingEvidence,
  type FindingProof,
} from '../reconcile/finding.js';
import type { ReconciliationReader } from './ports/reconciliation.js';

/** The log indices a list of records resolves to, and whether any is not yet integrated. */
export interface ResolvedProof {
  readonly proof: FindingProof;
  /** Some cited record's event has no leaf index yet: the proof is incomplete. */
  readonly pending: boolean;
}

/**
 * Maps each evidence list to the log indices of the events that recorded its
 * records, ascending per role, in one query per role (in chunks) for the whole
 * batch. A record whose event is not yet integrated makes its item `pending`; a
 * record with no event at all (none should exist) is left out.
 */
export async function proofsOf(
  repo: { readonly reconciliation: ReconciliationReader },
  items: readonly FindingEvidence[],
): Promise<ResolvedProof[]> {
  const leaves = new Map<EvidenceRole, Map<string, number | null>>();
  for (const role of EVIDENCE_ROLES) {
    leaves.set(
      role,
      await repo.reconciliation.leavesOf(role, [...new Set(items.flatMap((e) => e[role]))]),
    );
  }
  return items.map((e) => {
    let pending = false;
    const indices = (role: EvidenceRole): number[] => {
      const known = leaves.get(role) as Map<string, number | null>;
      const out = new Set<number>();
      for (const id of e[role]) {
        const leaf = known.get(id);
        if (leaf === null) pending = true;
        else if (leaf !== undefined) out.add(leaf);
      }
      return [...out].sort((a, b) => a - b);
    };
    const proof: FindingProof = {
      warrants: indices('warrants'),
      redemptions: indices('redemptions'),
      fulfilments: indices('fulfilments'),
      observations: indices('observations'),
    };
    return { proof, pending };
  });
}
