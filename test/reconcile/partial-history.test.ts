import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/observation/observation.js';
import type { ReconcileInput, ReconcileResult } from '../../src/reconcile/input.js';
import { prepareReconcile, reconcile, storeOrder } from '../../src/reconcile/reconcile.js';
import { generateReconcileInput } from '../fixtures/reconcile-input.js';
import {
  BASE,
  denseInput,
  keptObservations,
  MINUTE,
  newestAtOrBefore,
} from '../fixtures/dense-history.js';

/** The result from the part of each history a streamed pass reads, plus its look-ups. */
function fromPart(input: ReconcileInput, part: readonly Observation[]): ReconcileResult {
  const prepared = prepareReconcile({ ...input, observations: part });
  const found = prepared.lookups.flatMap((l) => newestAtOrBefore(input.observations, l) ?? []);
  return prepared.run(found);
}

const inOrder = (input: ReconcileInput): ReconcileInput => ({
  ...input,
  observations: [...input.observations].sort(storeOrder),
});

/** The benchmark's shape, small; judged at its own instant and inside many windows. */
const bench = inOrder(generateReconcileInput(400, 8_000, 5));
const instants = [
  bench.now,
  new Date(Date.parse(bench.grants[200]?.notBefore ?? '') + 30 * MINUTE),
  new Date(Date.parse(bench.grants[300]?.notBefore ?? '') + 60 * MINUTE),
];

describe('prepareReconcile', () => {
  describe('when given only the newest, the ends of each run and the limits of each claim', () => {
    it('gives exactly what reconcile gives on the whole history, at any instant and grace', () => {
      let compared = 0;
      for (const seed of [1, 2, 3, 4, 5, 6]) {
        const base = inOrder(denseInput(seed));
        const part = keptObservations(base.observations, base.fulfilments);
        for (const minutes of [30, 60, 90, 150, 400]) {
          for (const driftGraceMs of [0, 5 * MINUTE, 15 * MINUTE]) {
            const input = { ...base, now: new Date(BASE + minutes * MINUTE), driftGraceMs };
            const whole = reconcile(input);
            expect(fromPart(input, part)).toEqual(whole);
            compared += whole.raise.length;
          }
        }
      }
      expect(compared).toBeGreaterThan(500);
    });

    it('agrees on the benchmark shape too, drift included', () => {
      const part = keptObservations(bench.observations, bench.fulfilments);
      expect(part.length).toBeLessThan(bench.observations.length);
      for (const now of instants) {
        expect(fromPart({ ...bench, now }, part)).toEqual(reconcile({ ...bench, now }));
      }
    });
  });

  describe('when a part of the history it needs is missing', () => {
    it('can differ: the observations either side of a claim matter', () => {
      const differs = [1, 2, 3, 4, 5, 6].some((seed) => {
        const input = { ...inOrder(denseInput(seed)), now: new Date(BASE + 400 * MINUTE) };
        const part = keptObservations(input.observations, input.fulfilments, false);
        return JSON.stringify(fromPart(input, part)) !== JSON.stringify(reconcile(input));
      });
      expect(differs).toBe(true);
    });

    it('can differ: the drift look-ups matter', () => {
      const part = keptObservations(bench.observations, bench.fulfilments);
      const differs = instants.some((now) => {
        const r = prepareReconcile({ ...bench, now, observations: part }).run([]);
        return JSON.stringify(r) !== JSON.stringify(reconcile({ ...bench, now }));
      });
      expect(differs).toBe(true);
    });
  });
});
