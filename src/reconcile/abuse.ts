import { findingKey } from './finding.js';
import { evidence, type DenialRecord, type ExistingFinding, type FindingSink } from './input.js';
import type { Indexes } from './indexes.js';

/**
 * `REDEMPTION_ABUSE`: a warrant with at least `threshold` denied redemptions, of any code,
 * citing the denials and its `warrant.issued` event. Denials that name no warrant this
 * server holds (forged, unreadable, from another server) count against their caller
 * instead, under `REDEMPTION_ABUSE|caller|<executor>`, with the subject `''`.
 *
 * A person's resolution settles the refusals made until then, not those after it: once
 * `threshold` more follow, they are a new occurrence with a finding of its own
 * (`findingKey.abuseAfter`, keyed by the finding resolved), and so on after each.
 */
export function redemptionAbuse(
  denials: readonly DenialRecord[],
  idx: Indexes,
  existing: ReadonlyMap<string, ExistingFinding>,
  threshold: number,
  sink: FindingSink,
): void {
  const byKey = new Map<string, DenialRecord[]>();
  for (const d of denials) {
    const key =
      d.warrantId === null
        ? findingKey.callerAbuse(d.executor)
        : findingKey.redemptionAbuse(d.warrantId);
    const list = byKey.get(key);
    if (list) list.push(d);
    else byKey.set(key, [d]);
  }
  for (const [first, all] of byKey) {
    const { key, after } = currentOccurrence(first, existing);
    const list = after === null ? all : all.filter((d) => d.at > after);
    if (list.length < threshold) continue;
    const d0 = list[0] as DenialRecord;
    const codes = [...new Set(list.map((d) => d.code))].sort().join(', ');
    const redemptions = list.map((d) => d.id);
    const since = after === null ? '' : ` since ${after}`;
    const warrantId = d0.warrantId;
    if (warrantId === null) {
      sink.holds({
        kind: 'REDEMPTION_ABUSE',
        key,
        requestId: null,
        warrantId: null,
        subject: '',
        target: null,
        detail: `${d0.executor} was refused ${list.length} times${since} presenting no warrant this server holds (${codes})`,
        evidence: evidence({ redemptions }),
      });
      continue;
    }
    const grant = idx.grants.get(warrantId);
    const executors = new Set(list.map((d) => d.executor)).size;
    sink.holds({
      kind: 'REDEMPTION_ABUSE',
      key,
      requestId: grant?.requestId ?? d0.requestId ?? null,
      warrantId,
      subject: grant?.subject ?? '',
      target: null,
      detail: `warrant ${warrantId} was refused ${list.length} times${since} by ${executors} caller(s) (${codes})`,
      evidence: evidence({ warrants: grant === undefined ? [] : [warrantId], redemptions }),
    });
  }
}

/**
 * The abuse key whose refusals are counted now, and the instant they must follow: past
 * each occurrence a person resolved, to the next, keyed by the finding resolved. The
 * instant only moves forward, so a resolution stamped earlier than the one before it (a
 * clock stepped back) never counts refusals an earlier occurrence already cited.
 */
function currentOccurrence(
  first: string,
  existing: ReadonlyMap<string, ExistingFinding>,
): { key: string; after: string | null } {
  let key = first;
  let after = null as string | null;
  // A finding has one key, so the walk cannot come back; the set guards a malformed map.
  const seen = new Set<string>();
  for (;;) {
    const e = existing.get(key);
    const personal = e?.state === 'resolved' && e.automatic !== true && e.resolvedAt !== undefined;
    if (!personal || seen.has(e.id)) return { key, after };
    seen.add(e.id);
    const at = e.resolvedAt;
    if (after === null || at > after) after = at;
    key = findingKey.abuseAfter(first, e.id);
  }
}
