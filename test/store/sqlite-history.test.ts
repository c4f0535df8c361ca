import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NhiId, PrincipalId, ReceiptId, RequestId, WarrantId } from '../../src/core/ids.js';
import type { Fulfilment, FulfilmentId } from '../../src/fulfilment/fulfilment.js';
import {
  factKey,
  type Observation,
  type ObservationId,
} from '../../src/observation/observation.js';
import { keptForRules, type HistoryRow } from '../../src/store/sqlite/history.js';
import { BASE, keptObservations, MINUTE } from '../fixtures/dense-history.js';

const at = (minute: number): string => new Date(BASE + minute * MINUTE).toISOString();

/** Few subjects, places, values and minutes, so runs, ties and claims at one instant abound. */
const arbObservation = fc.record({
  subject: fc.constantFrom('svc:a', 'svc:b'),
  target: fc.constantFrom('eu-1', 'us-1'),
  // Mostly one version, so that runs are long and a claim often falls inside one.
  value: fc.oneof(
    { arbitrary: fc.constant('v1'), weight: 6 },
    { arbitrary: fc.constantFrom('v2', '+', '-'), weight: 3 },
  ),
  minute: fc.integer({ min: 0, max: 12 }),
  late: fc.integer({ min: 0, max: 2 }),
});

const arbClaim = fc.record({
  subject: fc.constantFrom('svc:a', 'svc:b'),
  target: fc.constantFrom('eu-1', 'us-1', 'ap-1'),
  minute: fc.integer({ min: -1, max: 13 }),
});

interface Sighting {
  readonly subject: string;
  readonly target: string;
  /** A secret version, or a grant seen present (`+`) or absent (`-`). */
  readonly value: string;
  readonly minute: number;
  readonly late: number;
}

const observationOf = (o: Sighting, i: number): Observation => ({
  id: `obs_${String(i).padStart(3, '0')}` as ObservationId,
  observer: 'collector' as PrincipalId,
  subject: o.subject as NhiId,
  target: o.target,
  observedAt: at(o.minute),
  receivedAt: at(o.minute + o.late),
  fact:
    o.value === '+' || o.value === '-'
      ? { kind: 'grant', resource: 'db/orders', permission: 'read', present: o.value === '+' }
      : { kind: 'secret_version', fingerprint: o.value },
});

const claimOf = (c: { subject: string; target: string; minute: number }, i: number) =>
  ({
    id: `ful_${i}` as FulfilmentId,
    requestId: 'req_1' as RequestId,
    warrantId: 'wrt_1' as WarrantId,
    receiptId: 'rcp_1' as ReceiptId,
    executor: 'deployer' as PrincipalId,
    subject: c.subject as NhiId,
    target: c.target,
    phase: 'apply',
    outcome: 'success',
    fingerprint: 'v2',
    detail: null,
    at: at(c.minute),
  }) satisfies Fulfilment;

/** A history as SQLite's scan reads it: by fact, then time, receipt and id, byte-wise. */
function scanned(observations: readonly Observation[]) {
  const row = (o: Observation) =>
    [
      o.id,
      o.observer,
      o.subject,
      o.target,
      factKey(o.fact),
      JSON.stringify(o.fact),
      o.observedAt,
      o.receivedAt,
    ] as const;
  const rank = (r: ReturnType<typeof row>) => [r[2], r[3], r[4], r[6], r[7], r[0]].join('\u0000');
  return observations
    .map(row)
    .sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0))
    .map((r): HistoryRow => [...r]);
}

describe('the history SQLite reads for the rules', () => {
  it('keeps exactly the runs and claim limits that the plain reading of every history keeps', () => {
    fc.assert(
      fc.property(
        fc.array(arbObservation, { maxLength: 40 }),
        fc.array(arbClaim, { maxLength: 6 }),
        (os, cs) => {
          const observations = os.map(observationOf);
          const claims = cs.map(claimOf);
          const kept = keptForRules(scanned(observations), claims).map((r) => r[0]);
          const expected = keptObservations(observations, claims).map((o) => o.id);
          expect([...kept].sort()).toEqual([...expected].sort());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads a history of a million sightings as a stream, keeping only its ends and a claim’s limits', () => {
    const sightings = 1_000_000;
    function* history(): Generator<HistoryRow> {
      for (let i = 0; i < sightings; i++) {
        const at = new Date(BASE + i * 15_000).toISOString();
        const fact = JSON.stringify({ kind: 'secret_version', fingerprint: 'v1' });
        yield [`obs_${i}`, 'collector', 'svc:a', 'eu-1', 'secret_version', fact, at, at];
      }
    }
    const claim = { subject: 'svc:a', target: 'eu-1', at: new Date(BASE + 7_500).toISOString() };
    expect(keptForRules(history(), [claim]).map((r) => r[0])).toEqual([
      'obs_0',
      'obs_1',
      `obs_${sightings - 1}`,
    ]);
  });

  it('keeps a claim’s limits that are in the middle of a run', () => {
    const observations = [1, 2, 3, 4, 5].map((minute, i) =>
      observationOf({ subject: 'svc:a', target: 'eu-1', value: 'v1', minute, late: 0 }, i),
    );
    const rows = scanned(observations);
    expect(keptForRules(rows, []).map((r) => r[0])).toEqual(['obs_000', 'obs_004']);
    const claim = claimOf({ subject: 'svc:a', target: 'eu-1', minute: 3 }, 0);
    expect(keptForRules(rows, [claim]).map((r) => r[0])).toEqual([
      'obs_000',
      'obs_001',
      'obs_002',
      'obs_004',
    ]);
  });
});
