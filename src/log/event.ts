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
