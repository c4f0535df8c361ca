/**
 * Compares the record tables, read in pages, with the rows the log proves (records.ts).
 * The tables can be far larger than the warrants: they are matched a page at a time, and
 * each logged record is taken out as its row is met, so that what is left at the end is
 * the logged records whose rows are missing.
 */
import type { StateDivergence } from './compare.js';
import {
  canonicalOrNull,
  DENIAL_FIELDS,
  fieldsDigest,
  provenFromLeaf,
  refOf,
  type EventRef,
  type LoggedRecord,
  type RecordFields,
  type RecordTable,
} from './records.js';

export interface DecisionRow {
  readonly id: string;
  readonly requestId: string;
  readonly requestDigest: string;
  readonly approver: string;
  readonly decision: string;
  readonly reason: string;
  readonly at: string;
  /** JSON text, or null. */
  readonly approverIdentity: string | null;
}

export interface RedemptionRow {
  readonly id: string;
  readonly warrantId: string | null;
  readonly outcome: string;
  readonly code: string | null;
  readonly useNumber: number | null;
  readonly executor: string;
  /** JSON text. */
  readonly action: string;
  readonly at: string;
  readonly idempotencyKey: string | null;
  /** See `storedEventRef`. */
  readonly event: EventRef | null;
}

export interface FulfilmentRow {
  readonly id: string;
  readonly requestId: string;
  readonly warrantId: string;
  readonly receiptId: string;
  readonly executor: string;
  readonly subject: string;
  readonly target: string;
  readonly phase: string;
  readonly outcome: string;
  readonly fingerprint: string | null;
  readonly detail: string | null;
  readonly event: EventRef | null;
}

export interface ObservationRow {
  readonly id: string;
  readonly observer: string;
  readonly subject: string;
  readonly target: string;
  /** JSON text. */
  readonly fact: string;
  readonly observedAt: string;
  readonly receivedAt: string;
  readonly event: EventRef | null;
}

/** One page of one record table, in id order. */
export type RecordPage =
  | { readonly table: 'decisions'; readonly rows: readonly DecisionRow[] }
  | { readonly table: 'redemptions'; readonly rows: readonly RedemptionRow[] }
  | { readonly table: 'fulfilments'; readonly rows: readonly FulfilmentRow[] }
  | { readonly table: 'observations'; readonly rows: readonly ObservationRow[] };

/** The logged records of each table, by the key they are matched on. */
export type LoggedRecords = Readonly<Record<RecordTable, Map<string, LoggedRecord>>>;

const NOUN = {
  decisions: 'decision',
  redemptions: 'redemption',
  fulfilments: 'fulfilment',
  observations: 'observation',
} as const satisfies Record<RecordTable, StateDivergence['record']>;

/** Fields held as JSON text, compared in canonical form and never quoted in a detail. */
const JSON_FIELDS = new Set(['approverIdentity', 'action', 'fact']);

const parsedCanonical = (textOf: string | null): string | null => {
  if (textOf === null) return null;
  try {
    return canonicalOrNull(JSON.parse(textOf));
  } catch {
    return null;
  }
};

interface Stored {
  readonly key: string;
  readonly id: string;
  readonly fields: RecordFields;
}

const num = (n: number | null): string | null => (n === null ? null : String(n));

/** A page's rows as the fields a logged record holds, with the key each is matched on. */
function storedRows(page: RecordPage): Stored[] {
  switch (page.table) {
    case 'decisions':
      return page.rows.map(({ id, approverIdentity, ...rest }) => ({
        key: id,
        id,
        fields: { ...rest, approverIdentity: parsedCanonical(approverIdentity) },
      }));
    case 'redemptions':
      return page.rows.map(({ id, useNumber, action, ...rest }) => ({
        // A denial's row is known by its event (see records.ts).
        key: rest.outcome === 'allow' ? id : (rest.event ?? `no event, row ${id}`),
        id,
        fields: { ...rest, useNumber: num(useNumber), action: parsedCanonical(action) },
      }));
    case 'fulfilments':
      return page.rows.map(({ id, ...rest }) => ({ key: id, id, fields: rest }));
    case 'observations':
      return page.rows.map(({ id, fact, ...rest }) => ({
        key: id,
        id,
        fields: { ...rest, fact: parsedCanonical(fact) },
      }));
  }
}

const shown = (v: string | null): string => (v === null ? 'none' : JSON.stringify(v));

/**
 * A redemption row written before migration 008, which added `event_id` and left the
 * rows before it without one: the server wrote it honestly, with no link to its event.
 */
const unlinked = (table: RecordTable, row: Stored): boolean =>
  table === 'redemptions' && row.fields.event === null;

/** How a row differs from the row its event proves, one line per field the event proves. */
function fieldProblems(table: RecordTable, row: Stored, proven: RecordFields): string[] {
  const problems: string[] = [];
  for (const [name, expected] of Object.entries(proven)) {
    const actual = row.fields[name] ?? null;
    if (actual === expected) continue;
    const where = `${NOUN[table]} ${row.id} in the ${table} table`;
    problems.push(
      JSON_FIELDS.has(name)
        ? `${where}: ${name} differs from the log's`
        : `${where}: ${name} is ${shown(actual)}, the log says ${shown(expected)}`,
    );
  }
  return problems;
}

/** Reads a logged record's leaf again: from the log by its index, or the queued event by id. */
export type LeafReader = (record: LoggedRecord) => Promise<string>;

/** Matches the record tables' pages against the logged records, which it takes over. */
export class RecordMatcher {
  readonly #logged: LoggedRecords;
  readonly #leafOf: LeafReader;
  /** Denial rows without an event (see {@link unlinked}): matched by content at the end. */
  readonly #unlinkedDenials: Stored[] = [];

  constructor(logged: LoggedRecords, leafOf: LeafReader) {
    this.#logged = logged;
    this.#leafOf = leafOf;
  }

  /** What is wrong with one page's rows. */
  async page(page: RecordPage): Promise<StateDivergence[]> {
    const { table } = page;
    const logged = this.#logged[table];
    const out: StateDivergence[] = [];
    const diverges = (id: string, index: number | null, detail: string) =>
      out.push({ kind: 'STATE_DIVERGES', record: NOUN[table], id, index, detail });
    for (const stored of storedRows(page)) {
      if (unlinked(table, stored) && stored.fields.outcome === 'deny') {
        this.#unlinkedDenials.push(stored);
        continue;
      }
      const record = logged.get(stored.key);
      if (record === undefined) {
        const where = `${NOUN[table]} ${stored.id}`;
        diverges(stored.id, null, `${where} is in the ${table} table but not in the log`);
        continue;
      }
      // Taken out, so that a second row claiming the same event is one the log does not explain.
      logged.delete(stored.key);
      // An unlinked row is compared on everything but the event it cannot name.
      const row = unlinked(table, stored)
        ? { ...stored, fields: { ...stored.fields, event: refOf(record) } }
        : stored;
      if (fieldsDigest(record.names, row.fields) === record.digest) continue;
      const proven = provenFromLeaf(await this.#leafOf(record), record);
      const problems = proven === null ? [] : fieldProblems(table, row, proven.fields);
      if (problems.length === 0) problems.push(`${NOUN[table]} ${row.id} differs from its event`);
      for (const detail of problems) diverges(row.id, record.index, detail);
    }
    return out;
  }

  /** The logged records no row was met for: call once every page has been read. */
  rest(): StateDivergence[] {
    const out = this.#matchUnlinkedDenials();
    for (const [table, logged] of Object.entries(this.#logged) as [
      RecordTable,
      Map<string, LoggedRecord>,
    ][]) {
      for (const [key, record] of logged) {
        const named =
          record.id === null
            ? `the denied ${NOUN[table]} logged at ${key}`
            : `${NOUN[table]} ${record.id}`;
        out.push({
          kind: 'STATE_DIVERGES',
          record: NOUN[table],
          id: record.id ?? key,
          index: record.index,
          detail: `${named} is in the log but missing from the ${table} table`,
        });
      }
      logged.clear();
    }
    return out;
  }

  /**
   * Each unlinked denial row takes a logged denial no row has claimed whose fields are all
   * its own; a row that finds none is one the log does not explain.
   */
  #matchUnlinkedDenials(): StateDivergence[] {
    const logged = this.#logged.redemptions;
    const byContent = new Map<string, string[]>();
    for (const [key, record] of logged) {
      if (record.content === null) continue;
      byContent.set(record.content, [...(byContent.get(record.content) ?? []), key]);
    }
    const out: StateDivergence[] = [];
    for (const row of this.#unlinkedDenials.splice(0)) {
      const key = byContent.get(fieldsDigest(DENIAL_FIELDS, row.fields))?.shift();
      if (key !== undefined) {
        logged.delete(key);
        continue;
      }
      out.push({
        kind: 'STATE_DIVERGES',
        record: 'redemption',
        id: row.id,
        index: null,
        detail: `redemption ${row.id} is in the redemptions table but not in the log`,
      });
    }
    return out;
  }
}
