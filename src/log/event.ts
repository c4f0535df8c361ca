import { canonicalJson } from '../core/canonical.js';
import { leafHash } from './hash.js';

/** Every kind of state change that enters the log. */
export const EVENT_TYPES = [
  'nhi.registered',
  'nhi.owner_changed',
  'request.created',
  'request.withdrawn',
  'request.expired',
  'decision.approved',
  'decision.denied',
  'warrant.issued',
  'warrant.revoked',
  'warrant.exhausted',
  'warrant.expired',
  'redemption.allowed',
  'redemption.denied',
  'fulfilment.recorded',
  'observation.recorded',
  'finding.raised',
  'finding.acknowledged',
  'finding.resolved',
  'finding.reopened',
  'grant.revoked',
  'key.created',
  'key.rotated',
  'key.revoked',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One log event. Its leaf is the RFC 8785 canonical JSON of this object. */
export interface LogEvent {
  readonly v: 1;
  readonly type: EventType;
  readonly at: string;
  readonly actor: string;
  readonly links: {
    readonly request?: string;
    readonly warrant?: string;
    readonly nhi?: string;
  };
  readonly data: Readonly<Record<string, unknown>>;
}

export interface EncodedEvent {
  readonly event: LogEvent;
  readonly leaf: string;
  /** Hex of the RFC 6962 leaf hash, SHA-256(0x00 || leaf). */
  readonly leafHash: string;
}

export function encodeEvent(event: LogEvent): EncodedEvent {
  const leaf = canonicalJson(event);
  return { event, leaf, leafHash: leafHash(Buffer.from(leaf, 'utf8')).toString('hex') };
}

/**
 * An event whose leaf leaves one integer open, for a store that learns the number only
 * as it writes the row (a use number from the conditional update that spent it).
 * `hole` is a JSON string, quotes included, that occurs exactly once in `leaf`; the
 * integer's decimal text replaces it, which is exactly its RFC 8785 form.
 */
export interface OpenEvent {
  readonly leaf: string;
  readonly hole: string;
  /** The event with the integer in place. */
  readonly build: (n: number) => LogEvent;
}

/**
 * Opens `build`'s event where it puts its argument, built once with `marker` there: a
 * string unlikely to occur anywhere else in the event (a fresh random id). Null when the
 * marker's text occurs other than once in the canonical leaf.
 */
export function openEvent(
  build: (n: number | string) => LogEvent,
  marker: string,
): OpenEvent | null {
  const leaf = canonicalJson(build(marker));
  const hole = JSON.stringify(marker);
  const at = leaf.indexOf(hole);
  if (at < 0 || leaf.indexOf(hole, at + 1) >= 0) return null;
  return { leaf, hole, build };
}

/** The open event with `n` in its hole: the same bytes `encodeEvent(build(n))` gives. */
export function closeEvent(open: OpenEvent, n: number): EncodedEvent {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a safe integer: ${n}`);
  const leaf = open.leaf.replace(open.hole, () => String(n));
  return {
    event: open.build(n),
    leaf,
    leafHash: leafHash(Buffer.from(leaf, 'utf8')).toString('hex'),
  };
}
