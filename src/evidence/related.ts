/**
 * @internal The events a request's bundle carries that do not link the request.
 *
 * A finding about an observed grant (`SCOPE_EXCEEDED_OBSERVED`) concerns the subject
 * and place, not one request: its events link only the NHI. When its proof cites the
 * leaf of this request's `warrant.issued` event, it was judged against this warrant's
 * scope, so an auditor tracing the grant must see it. Export and verification both
 * decide with this one function, so a bundle the service builds is one the verifier
 * accepts, and nothing else unlinked is let in.
 */
import { int, member, str, type EvidenceEvent } from './read.js';

const FINDING_EVENTS: ReadonlySet<string> = new Set([
  'finding.raised',
  'finding.acknowledged',
  'finding.resolved',
  'finding.reopened',
]);

interface Indexed {
  readonly index: number;
  readonly event: EvidenceEvent | undefined;
}

/**
 * The indices of the entries that link no request and are events of a finding whose
 * `finding.raised` event, also among `entries`, cites the leaf index of a
 * `warrant.issued` event of `requestId` among `entries`.
 */
export function citingFindingIndices(requestId: string, entries: readonly Indexed[]): Set<number> {
  const issued = new Set<number>();
  for (const { index, event } of entries) {
    if (event?.type === 'warrant.issued' && event.links.request === requestId) issued.add(index);
  }
  const unlinked = entries.filter(
    (e): e is Indexed & { event: EvidenceEvent } =>
      e.event !== undefined &&
      e.event.links.request === undefined &&
      FINDING_EVENTS.has(e.event.type),
  );
  const cited = new Set<string>();
  for (const { event } of unlinked) {
    const id = str(event.data.id);
    const warrants = member(event.data.evidence, 'warrants');
    if (event.type !== 'finding.raised' || id === null || !Array.isArray(warrants)) continue;
    if (warrants.some((w) => issued.has(int(w) ?? -1))) cited.add(id);
  }
  return new Set(
    unlinked.filter(({ event }) => cited.has(str(event.data.id) ?? '')).map((e) => e.index),
  );
}
