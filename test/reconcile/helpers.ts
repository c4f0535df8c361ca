import type { NewFinding } from '../../src/reconcile/finding.js';
import type { ExistingFinding, ReconcileInput } from '../../src/reconcile/input.js';

/** A reconcile input with nothing in it but what `over` says. */
export const input = (over: Partial<ReconcileInput> & { now: Date }): ReconcileInput => ({
  grants: [],
  fulfilments: [],
  observations: [],
  redemptions: [],
  denials: [],
  existing: new Map(),
  ...over,
});

/** `before` plus the raised findings recorded as open, as the service would. */
export const recorded = (
  raised: readonly NewFinding[],
  before: ReadonlyMap<string, ExistingFinding> = new Map(),
): Map<string, ExistingFinding> =>
  new Map<string, ExistingFinding>([
    ...before,
    ...raised.map((f): [string, ExistingFinding] => [f.key, { id: `fnd_${f.key}`, state: 'open' }]),
  ]);

export const keys = (fs: readonly { readonly key: string }[]): string[] => fs.map((f) => f.key);
