import type { Repo } from '../store/store.js';

/** Ids of the records a finding or an exception rests on. */
export interface EvidenceIds {
  readonly fulfilments: readonly string[];
  readonly observations: readonly string[];
  /** Denied redemptions are referenced by their log event id. */
  readonly redemptions?: readonly string[];
}

/**
 * Maps each evidence list to the sorted log indices of its events, in one query per
 * table for the whole batch. Events not yet integrated have no index and are left out.
 */
export async function logIndicesOf(repo: Repo, items: readonly EvidenceIds[]): Promise<number[][]> {
  const ful = await repo.eventIdsOf(
    'fulfilments',
    items.flatMap((e) => e.fulfilments),
  );
  const obs = await repo.eventIdsOf(
    'observations',
    items.flatMap((e) => e.observations),
  );
  const pick = (m: Map<string, number>, ids: readonly string[]): number[] =>
    ids.flatMap((id) => (m.has(id) ? [m.get(id) as number] : []));
  const eventIds = items.map((e) => [
    ...pick(ful, e.fulfilments),
    ...pick(obs, e.observations),
    ...(e.redemptions ?? []).map(Number).filter(Number.isSafeInteger),
  ]);
  const leaves = await repo.leafIndicesOf(eventIds.flat());
  return eventIds.map((ids) =>
    ids
      .flatMap((id) => {
        const leaf = leaves.get(id);
        return leaf === undefined ? [] : [leaf];
      })
      .sort((a, b) => a - b),
  );
}
