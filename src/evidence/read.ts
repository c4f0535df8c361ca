/**
 * @internal Defensive readers for untrusted JSON: every evidence input (leaves,
 * event payloads, warrant payloads) is parsed with `parseStrictJson` and then read
 * through these, which return `null` instead of trusting a shape.
 */
import { canonicalJson } from '../core/canonical.js';
import { parseStrictJson } from '../core/json.js';

/** A plain JSON object. */
export type JsonObject = Readonly<Record<string, unknown>>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The member `key` of `value` when `value` is an object, else `undefined`. */
export function member(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function int(value: unknown): number | null {
  return Number.isSafeInteger(value) ? (value as number) : null;
}

/** The string elements of an array (non-strings dropped); `[]` for anything else. */
export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
}

/** True when `value` has every `required` key and no key outside `required` and `optional`. */
export function hasExactKeys(
  value: JsonObject,
  required: readonly string[],
  optional: readonly string[] = [],
): boolean {
  const keys = Object.keys(value);
  return (
    required.every((k) => Object.hasOwn(value, k)) &&
    keys.every((k) => required.includes(k) || optional.includes(k))
  );
}

/** Parses untrusted JSON text, refusing duplicate keys; `undefined` on any failure. */
export function parseJson(text: string): unknown {
  try {
    return parseStrictJson(text);
  } catch {
    return undefined;
  }
}

/** `JSON.parse`, with `undefined` on any failure: only for text then checked canonical. */
function parseLoose(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** RFC 8785 canonical JSON, or `undefined` for a value it refuses (never throws). */
export function canonicalOrUndefined(value: unknown): string | undefined {
  try {
    return canonicalJson(value);
  } catch {
    return undefined;
  }
}

/**
 * Decodes unpadded base64url (RFC 4648 §5) only in its canonical form: decoders
 * ignore the spare low bits of the last character, so without the re-encoding
 * check two strings would decode to the same key or signature.
 */

/** A v1 log event as read from a leaf; `type` stays open so later event kinds still parse. */
export interface EvidenceEvent {
  readonly v: 1;
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly links: { readonly request?: string; readonly warrant?: string; readonly nhi?: string };
  readonly data: JsonObject;
}

const EVENT_KEYS = ['v', 'type', 'at', 'actor', 'links', 'data'] as const;

/**
 * Reads a leaf as a log event. The leaf must be exactly the RFC 8785 canonical JSON
 * of the event (as `log/event.ts` writes it), so one event has one leaf.
 */
export function parseEvent(leaf: string): EvidenceEvent | undefined {
  // No strict scan first: a leaf equal to the canonical form of what `JSON.parse` read from
  // it has no duplicate key (the canonical form writes each key once, so a leaf repeating
  // one is longer), no lone surrogate and no number out of range (both refused by
  // `canonicalJson`). The scan was about a tenth of an offline verification.
  const value = parseLoose(leaf);
  if (!isObject(value) || !hasExactKeys(value, EVENT_KEYS)) return undefined;
  if (canonicalOrUndefined(value) !== leaf) return undefined;
  const { v, type, at, actor, links, data } = value;
  if (v !== 1 || typeof type !== 'string' || typeof at !== 'string') return undefined;
  if (typeof actor !== 'string' || !isObject(links) || !isObject(data)) return undefined;
  for (const k of ['request', 'warrant', 'nhi']) {
    if (Object.hasOwn(links, k) && typeof links[k] !== 'string') return undefined;
  }
  return value as unknown as EvidenceEvent;
}
