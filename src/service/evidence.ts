import {
  buildBundle,
  citingFindingIndices,
  parseEvent,
  type EvidenceBundle,
} from '../evidence/index.js';
import type { RequestRecord } from '../request/request.js';
import type { LogEntry } from './ports/log.js';
import { inclusionCompute, inclusionPlan } from '../log/tree.js';
import type { ServiceContext } from './context.js';
import { ringVerifierKeys } from './log-keys.js';
import { warrantToken } from './queries.js';
import { loadRequest } from './load-request.js';
import { latestCheckpoint } from './log-read.js';

/**
 * Exports one request's chain of custody: every event linked to it, each with its
 * inclusion proof against one signed checkpoint, the keys in force, the warrant, and
 * an in-toto statement in a DSSE envelope signed by the active key.
 *
 * Queued events are integrated first, so the checkpoint covers the newest ones.
 */
export async function exportEvidence(
  ctx: ServiceContext,
  requestId: string,
  origin: string,
): Promise<EvidenceBundle> {
  await ctx.integrateLog();
  const request = await loadRequest(ctx.store.read, requestId);
  const checkpoint = await latestCheckpoint(ctx.store.read);
  const size = checkpoint.size;
  const own = await ctx.store.read.log.entriesForRequest(request.id);
  const entries = [...own, ...(await citingFindingEntries(ctx, request, own))]
    .filter((e) => e.index < size)
    .sort((a, b) => a.index - b.index);
  const withProofs = [];
  for (const e of entries) {
    const proof = inclusionCompute(
      e.index,
      size,
      await ctx.store.read.log.nodes(inclusionPlan(e.index, size)),
    );
    withProofs.push({
      index: e.index,
      leaf: e.leaf,
      proof: proof.map((h) => h.toString('base64')),
    });
  }
  const warrant = await ctx.store.read.warrants.getByRequest(request.id);
  const keys = ctx.keys();
  const signerKid = keys.activeKid;
  return buildBundle(
    {
      requestId: request.id,
      checkpoint: checkpoint.note,
      logVerifierKey: ringVerifierKeys(keys, origin)[0] as string,
      jwks: keys.jwks(),
      warrant: warrant ? await warrantToken(ctx, warrant) : null,
      entries: withProofs,
    },
    { keyid: signerKid, sign: (d) => keys.signBytes(d).signature },
  );
}

/**
 * The events of the findings that name no request but were judged against this
 * request's warrant: those of its subject whose proof cites the warrant's issuing leaf.
 * The verifier's own rule (`citingFindingIndices`) has the last word, so an event it
 * would refuse (a finding raised before proofs were log indices) is left out.
 */
async function citingFindingEntries(
  ctx: ServiceContext,
  request: RequestRecord,
  own: readonly LogEntry[],
): Promise<LogEntry[]> {
  const read = ctx.store.read;
  const parsed = own.map((e) => ({ index: e.index, event: parseEvent(e.leaf) }));
  const issued = parsed.find((e) => e.event?.type === 'warrant.issued')?.index;
  if (issued === undefined) return [];
  const ids = (await read.findings.unlinkedOf(request.body.subject))
    .filter((f) => f.evidence.warrants.includes(issued))
    .map((f) => f.id);
  if (ids.length === 0) return [];
  const theirs = await read.log.entriesForFindings(ids);
  const allowed = citingFindingIndices(request.id, [
    ...parsed,
    ...theirs.map((e) => ({ index: e.index, event: parseEvent(e.leaf) })),
  ]);
  return theirs.filter((e) => allowed.has(e.index));
}
