import { describe, expect, it } from 'vitest';
import { reconcile } from '../../src/reconcile/reconcile.js';
import { generateReconcileInput } from '../fixtures/reconcile-input.js';
import { recorded } from './helpers.js';

// Not a timing assertion: the figures belong to the benchmark. This only shows that
// a large input completes (no quadratic blow-up, no stack overflow) and stays idempotent.
describe('reconcile', () => {
  describe('when given 20,000 grants and 200,000 observations', () => {
    it('completes, raises findings, and raises none again when they are recorded', () => {
      const big = generateReconcileInput(20_000, 200_000, 42);
      const first = reconcile(big);
      expect(first.raise.length).toBeGreaterThan(0);
      expect(first.raise.length).toBeLessThan(big.observations.length / 4);
      expect(reconcile({ ...big, existing: recorded(first.raise) }).raise).toEqual([]);
    });
  });
});
