/**
 * The rows of the record tables (decisions, redemptions, fulfilments, observations) as the
 * log proves them. Each row is written in the transaction of its event, and nothing
 * changes it afterwards, so the event's fields are the row's: a row the log does not
 * explain, a logged record without its row, or a field that differs was edited behind the
 * server. Only what an event carries is derived, and so only that is compared.
 */
import { canonicalJson } from '../core/canonical.js';
import { sha256 } from '../core/crypto.js';

export const RECORD_TABLES = ['decisions', 'redemptions', 'fulfilments', 'observations'] as const;
export type RecordTable = (typeof RECORD_TABLES)[number];

/**
 * Where a row's event stands: `entry N` once integrated, `queued event ID` before, and
 * `missing event ID` for a row naming an event the table does not hold.
 */
export type EventRef = string;

/** One row's compared fields as text: JSON in its RFC 8785 form, integers in decimal. */
export type RecordFields = Readonly<Record<string, string | null>>;

/** A row as its event proves it: the fields, and where the event stands. */
export interface ProvenRow {
  /** The row id the event names, or null when it names none (a denied redemption's). */
  readonly id: string | null;
  /** The leaf index of the event (or -1 for a queued event). */
  readonly index: number;
  readonly fields: RecordFields;
}

/**
 * What the replay holds of a proven row until its row is read: a digest of its fields, not
 * the fields, so a store of millions of redemptions is audited in bounded memory. A row
 * that does not match has its event read again, for the fields that differ.
 */
export interface LoggedRecord {
  readonly id: string | null;
  readonly index: number;
  /** The queued event's id, for an event not yet in the log; else null. */
  readonly queuedId: number | null;
  /** The names of the fields the event proves, shared by every record of its shape. */
  readonly names: readonly string[];
  readonly digest: string;
  /** For a denial, which names no row: the digest of what it records but its event. */
  readonly content: string | null;
}

/** The key a record is matched on, in its table: its id, or its event's where the event names no id. */
export interface KeyedRecord<R = LoggedRecord> {
  readonly table: RecordTable;
  readonly key: string;
  readonly record: R;
}

/** What a denial row and its event share, besides the event: how an unlinked row is matched. */
export const DENIAL_FIELDS = [
  'warrantId',
  'outcome',
  'code',
  'useNumber',
  'executor',
  'action',
  'at',
] as const;

/**
 * The digest of `fields` under `names`, in that order (a missing field counts as null):
 * SHA-256 cut to 128 bits, so that a row changed to meet its event's digest is a second
 * preimage of 2^128 work, and millions of them fit in memory.
 */
export function fieldsDigest(names: readonly string[], fields: RecordFields): string {
  return sha256(JSON.stringify(names.map((n) => fields[n] ?? null)))
    .subarray(0, 16)
    .toString('base64');
}

const shapes = new Map<string, readonly string[]>();
/** One array per shape of fields, however many records have it. */
function namesOf(fields: RecordFields): readonly string[] {
  const names = Object.keys(fields);
  const key = names.join(',');
  const known = shapes.get(key);
  if (known !== undefined) return known;
  shapes.set(key, names);
  return names;
}

/** The compact record of a proven row (see {@link LoggedRecord}). */
export function compactRecord(row: ProvenRow, queuedId: number | null): LoggedRecord {
  const names = namesOf(row.fields);
  return {
    id: row.id,
    index: row.index,
    queuedId,
    names,
    digest: fieldsDigest(names, row.fields),
    content: row.id === null ? fieldsDigest(DENIAL_FIELDS, row.fields) : null,
  };
}

export const entryRef = (index: number): EventRef => `entry ${index}`;

/** The reference a row's `event_id` makes, given what the events table holds under it. */
export function storedEventRef(
  named: number | null,
  found: { readonly exists: boolean; readonly leafIndex: number | null },
): EventRef | null {
  if (named === null) return null;
  if (!found.exists) return `missing event ${named}`;
  return found.leafIndex === null ? `queued event ${named}` : entryRef(found.leafIndex);
}

interface Event {
  readonly type: string;
  readonly at?: unknown;
  readonly actor?: unknown;
  readonly links: {
    readonly request?: unknown;
    readonly warrant?: unknown;
    readonly nhi?: unknown;
  };
  readonly data: Readonly<Record<string, unknown>>;
}

/** Event types that write a record row, and the table each writes to. */
export const RECORD_EVENTS: Readonly<Record<string, RecordTable>> = {
  'decision.approved': 'decisions',
  'decision.denied': 'decisions',
  'redemption.allowed': 'redemptions',
  'redemption.denied': 'redemptions',
  'fulfilment.recorded': 'fulfilments',
  'observation.recorded': 'observations',
};

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const obj = (v: unknown): Readonly<Record<string, unknown>> =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};

/** The canonical text of a JSON value, or null where it has none. */
export function canonicalOrNull(value: unknown): string | null {
  try {
    return value === undefined ? null : canonicalJson(value);
  } catch {
    return null;
  }
}

/** A value as the compared text of its column: strings as they are, integers in decimal. */
function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  return Number.isSafeInteger(v) ? String(v) : null;
}

/**
 * Fields the event carries, as text; a field the event leaves out is left out, so that it
 * is not compared (an event of an older version proves less of its row).
 */
function carried(fields: Readonly<Record<string, unknown>>): RecordFields {
  const out: Record<string, string | null> = {};
  for (const [name, v] of Object.entries(fields)) if (v !== undefined) out[name] = text(v);
  return out;
}

function decision(e: Event, index: number): KeyedRecord<ProvenRow> | null {
  const d = obj(e.data.decision);
  const id = str(d.id);
  if (id === null) return null;
  const fields = carried({
    requestId: d.requestId,
    requestDigest: d.requestDigest,
    approver: d.approver,
    decision: d.decision,
    reason: d.reason,
    at: d.at,
    approverIdentity: canonicalOrNull(d.approverIdentity),
  });
  return { table: 'decisions', key: id, record: { id, index, fields } };
}

/**
 * An allowed redemption is its receipt: the row's id is the receipt's. A denial names no
 * row id, so its row is known by the event it names (`event_id`, as evidence names it).
 */
function redemption(e: Event, index: number, ref: EventRef): KeyedRecord<ProvenRow> | null {
  if (e.type === 'redemption.denied') {
    const fields = carried({
      warrantId: str(e.links.warrant),
      outcome: 'deny',
      code: e.data.code,
      useNumber: null,
      executor: e.actor,
      // A body refused before it was read has no action; its row holds JSON null.
      action: canonicalOrNull(e.data.action ?? null),
      at: e.at,
      event: ref,
    });
    return { table: 'redemptions', key: ref, record: { id: null, index, fields } };
  }
  const receipt = obj(e.data.receipt);
  const id = str(receipt.jti);
  if (id === null) return null;
  const fields = carried({
    warrantId: receipt.warrant_id,
    outcome: 'allow',
    code: null,
    useNumber: receipt.use,
    executor: receipt.executor,
    action: canonicalOrNull(receipt.action),
    at: e.at,
    idempotencyKey: e.data.idempotencyKey ?? null,
    event: ref,
  });
  return { table: 'redemptions', key: id, record: { id, index, fields } };
}

function fulfilment(e: Event, index: number, ref: EventRef): KeyedRecord<ProvenRow> | null {
  const id = str(e.data.id);
  if (id === null) return null;
  // The row's `at` is the executor's own report of when, which the event does not carry.
  const fields = carried({
    requestId: e.links.request,
    warrantId: e.links.warrant,
    receiptId: e.data.receiptId,
    executor: e.actor,
    subject: e.links.nhi,
    target: e.data.target,
    phase: e.data.phase,
    outcome: e.data.outcome,
    fingerprint: e.data.fingerprint,
    detail: e.data.detail,
    event: ref,
  });
  return { table: 'fulfilments', key: id, record: { id, index, fields } };
}

function observation(e: Event, index: number, ref: EventRef): KeyedRecord<ProvenRow> | null {
  const id = str(e.data.id);
  if (id === null) return null;
  const fields = carried({
    observer: e.actor,
    subject: e.links.nhi,
    target: e.data.target,
    fact: canonicalOrNull(e.data.fact),
    observedAt: e.data.observedAt,
    receivedAt: e.at,
    event: ref,
  });
  return { table: 'observations', key: id, record: { id, index, fields } };
}

/** Where a logged record's event stands, as a row's `event_id` reaches it. */
export const refOf = (record: Pick<LoggedRecord, 'index' | 'queuedId'>): EventRef =>
  record.index >= 0 ? entryRef(record.index) : `queued event ${record.queuedId ?? 'unknown'}`;

/** The row a logged record's leaf proves, read again to say which fields a row changed. */
export function provenFromLeaf(leaf: string, record: LoggedRecord): ProvenRow | null {
  return loggedRecord(JSON.parse(leaf) as Event, record.index, refOf(record))?.record ?? null;
}

/**
 * The row one event wrote, as the event proves it; null for an event that writes none,
 * or one too malformed to name its row.
 * @param ref where the event stands, as a row's `event_id` would reach it
 */
export function loggedRecord(
  e: Event,
  index: number,
  ref: EventRef,
): KeyedRecord<ProvenRow> | null {
  const table: RecordTable | undefined = RECORD_EVENTS[e.type];
  if (table === undefined) return null;
  switch (table) {
    case 'decisions':
      return decision(e, index);
    case 'redemptions':
      return redemption(e, index, ref);
    case 'fulfilments':
      return fulfilment(e, index, ref);
    case 'observations':
      return observation(e, index, ref);
  }
}
