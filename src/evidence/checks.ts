/**
 * @internal The checks of `verify.ts` that look inside the entries: request digest and
 * links, warrant signature and claims, and the attested statement.
 */
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { constantTimeEqual, sha256Hex } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import type { Checkpoint } from '../log/checkpoint.js';
import type { EvidenceBundle } from './bundle.js';
import { envelopePayload } from './dsse.js';
import { verifyCompactJws } from '../keys/jws.js';
import type { EvidenceCheckCode } from './errors.js';
import type { EvidenceEvent } from './read.js';
import { decodeBase64UrlStrict } from '../core/base64.js';
import { canonicalOrUndefined, int, member, parseJson, str } from './read.js';
import { citingFindingIndices } from './related.js';
import { approvalChainStatement, IN_TOTO_PAYLOAD_TYPE, statementBytes } from './statement.js';

const WARRANT_TYP = 'warrant+jwt';

export type Add = (code: EvidenceCheckCode, ok: boolean, detail: string, index?: number) => void;
export type Jwks = { readonly keys: readonly JWK[] };
export interface ReadEntry {
  readonly index: number;
  readonly leafHash: string;
  readonly event: EvidenceEvent | undefined;
}

export const why = (e: unknown): string => (e instanceof CountersignError ? ` (${e.code})` : '');

/** Adds `code` as passed with `success`, or failed with `failure` when there is one. */
function verdict(
  add: Add,
  code: EvidenceCheckCode,
  failure: string | undefined,
  success: string,
): void {
  add(code, failure === undefined, failure ?? success);
}

export function checkRequest(requestId: string, entries: readonly ReadEntry[], add: Add): void {
  const citing = citingFindingIndices(requestId, entries);
  const stray = entries.filter(
    (e) => e.event !== undefined && e.event.links.request !== requestId && !citing.has(e.index),
  );
  add(
    'REQUEST_LINK_MISMATCH',
    stray.length === 0,
    stray.length === 0
      ? citing.size === 0
        ? 'every event links to the request'
        : `every event links to the request, or is one of the ${citing.size} event(s) of findings citing its warrant`
      : `${stray.length} event(s) do not link to the request, first at ${stray[0]?.index}`,
  );
  const events = entries.flatMap((e) => (e.event === undefined ? [] : [e.event]));
  const created = events.filter((e) => e.type === 'request.created');
  const first = created[0];
  const body = first === undefined ? undefined : canonicalOrUndefined(first.data.body);
  const decisions = events.filter(
    (e) => e.type === 'decision.approved' || e.type === 'decision.denied',
  );
  let failure: string | undefined;
  if (created.length !== 1) failure = `expected one request.created event, found ${created.length}`;
  // The request id is sha256 over the body's RFC 8785 canonical JSON (request/build.ts).
  else if (body === undefined || !constantTimeEqual(`sha256:${sha256Hex(body)}`, requestId)) {
    failure = 'request.created body does not digest to the request id';
  } else if (decisions.some((d) => str(member(d.data.decision, 'requestDigest')) !== requestId)) {
    failure = 'a decision was made on another request digest';
  }
  verdict(
    add,
    'REQUEST_DIGEST_MISMATCH',
    failure,
    'request.created body digests to the request id; every decision names it',
  );
}

function decodeSegment(segment: string | undefined): unknown {
  const bytes = segment === undefined ? undefined : decodeBase64UrlStrict(segment);
  return bytes === undefined ? undefined : parseJson(bytes.toString('utf8'));
}

export async function checkWarrant(
  b: EvidenceBundle,
  resolve: KeyResolver | undefined,
  events: readonly EvidenceEvent[],
  add: Add,
): Promise<void> {
  const issued = events.filter((e) => e.type === 'warrant.issued');
  if (b.warrant === null) {
    add('WARRANT_SIGNATURE_INVALID', true, 'no warrant in the bundle');
    add(
      'WARRANT_CLAIMS_MISMATCH',
      issued.length === 0,
      issued.length === 0
        ? 'no warrant.issued event'
        : 'a warrant was issued but is not in the bundle',
    );
    return;
  }
  const signed =
    resolve !== undefined && verifyCompactJws(b.warrant, WARRANT_TYP, resolve) !== null;
  add(
    'WARRANT_SIGNATURE_INVALID',
    signed,
    signed
      ? 'warrant JWS verifies under the JWKS in force'
      : 'warrant JWS does not verify as a warrant+jwt under the JWKS in force',
  );
  const [header, payload] = b.warrant.split('.').map(decodeSegment);
  const event = issued[0];
  const claims = event === undefined ? undefined : canonicalOrUndefined(event.data.claims);
  let failure: string | undefined;
  if (issued.length !== 1 || event === undefined)
    failure = `expected one warrant.issued event, found ${issued.length}`;
  else if (claims === undefined || canonicalOrUndefined(payload) !== claims)
    failure = 'warrant payload differs from the warrant.issued claims';
  else if (str(member(payload, 'request_id')) !== b.requestId)
    failure = 'warrant names another request';
  else if (str(member(header, 'kid')) !== str(event.data.kid))
    failure = 'warrant kid differs from the warrant.issued kid';
  else if (event.links.warrant !== str(member(payload, 'jti')))
    failure = 'warrant.issued links to another warrant';
  verdict(
    add,
    'WARRANT_CLAIMS_MISMATCH',
    failure,
    'warrant payload is exactly the claims of warrant.issued',
  );
}

/**
 * The signed `max_uses` bounds the allowed redemptions the log holds, and each receipt
 * carries the next use number: more uses than signed, or a repeated or skipped number,
 * means a counter was reset behind the server, whatever the tables say now.
 */
export function checkUses(events: readonly EvidenceEvent[], add: Add): void {
  const issued = events.find((e) => e.type === 'warrant.issued');
  const max = int(member(issued?.data.claims, 'max_uses'));
  const uses = events
    .filter((e) => e.type === 'redemption.allowed')
    .map((e) => int(member(e.data.receipt, 'use')));
  let failure: string | undefined;
  if (max !== null && uses.length > max)
    failure = `${uses.length} allowed redemptions exceed the signed max_uses ${max}`;
  else if (uses.some((u, i) => u !== i + 1))
    failure = 'allowed redemptions do not carry uses 1, 2, 3 … in log order';
  verdict(
    add,
    'USES_EXCEED_SIGNED_MAX',
    failure,
    `${uses.length} allowed redemption(s), within the signed max_uses${max === null ? '' : ` ${max}`}`,
  );
}

/** Finds the key a signature names by its kid, or nothing. */
export type KeyResolver = (keyid: string) => KeyObject | undefined;

export function checkStatement(
  b: EvidenceBundle,
  cp: Checkpoint | undefined,
  entries: readonly ReadEntry[],
  add: Add,
): void {
  const actual = envelopePayload(b.attestation);
  const events = entries.flatMap((e) => (e.event === undefined ? [] : [{ ...e, event: e.event }]));
  let failure: string | undefined;
  if (b.attestation.payloadType !== IN_TOTO_PAYLOAD_TYPE)
    failure = 'attestation is not an in-toto statement';
  else if (cp === undefined || events.length !== entries.length || actual === undefined) {
    failure = 'the statement cannot be recomputed from unreadable entries or checkpoint';
  } else {
    const expected = statementBytes(
      approvalChainStatement({
        requestId: b.requestId,
        checkpoint: { origin: cp.origin, size: cp.size, rootHash: cp.rootHash.toString('base64') },
        entries: events,
        logVerifierKey: b.logVerifierKey,
        jwks: b.jwks,
      }),
    );
    if (!constantTimeEqual(expected, actual))
      failure = 'attested statement differs from what the entries imply';
  }
  verdict(add, 'STATEMENT_MISMATCH', failure, 'attested statement is the one the entries imply');
}
