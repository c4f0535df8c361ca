import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { record } from '../../src/service/context.js';
import { loadOrCreateKeyRing } from '../../src/service/keys.js';
import type { Store } from '../../src/service/ports/store.js';
import { findingKey, type Finding, type FindingId } from '../../src/reconcile/finding.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { appendRaisedEvent } from '../helpers/store-rows.js';
import { AT, integrateAll, observeUnapprovedGrant } from '../helpers/unapproved-grant.js';

/** A caller refused with no warrant held, as `recordRefusedRedemption` records it. */
const refuse = (store: Store, clock: ManualClock, executor: string, n: number, from = 0) =>
  store.transaction(async (tx) => {
    for (let i = from; i < from + n; i++) {
      const eventId = await record(
        tx,
        'redemption.denied',
        clock.now(),
        executor,
        {},
        {
          code: 'SIGNATURE_INVALID',
        },
      );
      await tx.warrants.recordRedemption({
        id: `rcp_${executor}_${i}`,
        warrantId: null,
        outcome: 'deny',
        code: 'SIGNATURE_INVALID',
        useNumber: null,
        executor,
        action: null,
        at: clock.now().toISOString(),
        eventId,
      });
    }
  });

/** An abuse finding against a caller, raised with its event. */
const callerFinding = (key: string): Finding => ({
  id: `fnd_${key.length}_${key.slice(-8)}` as FindingId,
  key,
  kind: 'REDEMPTION_ABUSE',
  state: 'open',
  requestId: null,
  warrantId: null,
  subject: '',
  target: null,
  detail: 'caller test',
  evidence: { warrants: [], redemptions: [], fulfilments: [], observations: [] },
  raisedAt: AT,
  updatedAt: AT,
  resolution: null,
});

/** The log size, and whether an incremental pass from `treeSize` must judge callers again. */
const changedSince = async (store: Store, treeSize: number) =>
  store.snapshot((view) => view.reconciliation.changedSubjects({ treeSize, at: AT }));

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `refusals naming no warrant, on the ${dialect.name} store`,
    () => {
      const storeOf = storePerTest(dialect);

      it('are not read for a caller whose finding is live, nor those a resolution settled', async () => {
        const store = storeOf();
        const clock = new ManualClock(AT);
        const ring = await loadOrCreateKeyRing(store, randomBytes(32), clock);
        // `deploy` is a prefix of `deploy-us`: neither finding may stand for the other.
        for (const caller of ['deploy-us', 'deploy']) await refuse(store, clock, caller, 2);
        await integrateAll(store, clock, ring);
        const read = async () => {
          const denials = await store.read.reconciliation.unattributedDenials();
          return denials.map((d) => d.executor).sort();
        };
        const raise = (f: Finding) =>
          store.transaction(async (tx) => tx.findings.insert(f, await appendRaisedEvent(tx, AT)));
        expect(await read()).toEqual(['deploy', 'deploy', 'deploy-us', 'deploy-us']);

        const first = callerFinding('REDEMPTION_ABUSE|caller|deploy-us');
        await raise(first);
        expect(await read()).toEqual(['deploy', 'deploy']);

        const resolvedAt = new Date(Date.parse(AT) + 60_000).toISOString();
        const resolution = { by: 'admin', reason: 'rotated', at: resolvedAt, automatic: false };
        await store.transaction((tx) =>
          tx.findings.update(first.id, 'open', 'resolved', resolution, resolvedAt),
        );
        expect(await read()).toEqual(['deploy', 'deploy']);

        // Only the refusal after the resolution is read.
        clock.set(new Date(Date.parse(AT) + 120_000));
        await refuse(store, clock, 'deploy-us', 1, 2);
        await integrateAll(store, clock, ring);
        expect(await read()).toEqual(['deploy', 'deploy', 'deploy-us']);

        // Its next occurrence does not stop the reading: the rule sees it live and raises nothing.
        await raise(callerFinding(`REDEMPTION_ABUSE|caller|deploy-us|after|${first.id}`));
        expect(await read()).toEqual(['deploy', 'deploy', 'deploy-us']);
      });

      it('match a caller whose name holds the key separator by its escaped key', async () => {
        const store = storeOf();
        const clock = new ManualClock(AT);
        const ring = await loadOrCreateKeyRing(store, randomBytes(32), clock);
        // Unescaped, the second caller's key would be the first caller's next occurrence.
        const [odd, plain] = ['ci|after|fnd_1\\x', 'ci'];
        for (const caller of [odd, plain]) await refuse(store, clock, caller, 1);
        await integrateAll(store, clock, ring);
        await store.transaction(async (tx) =>
          tx.findings.insert(
            callerFinding(findingKey.callerAbuse(odd)),
            await appendRaisedEvent(tx, AT),
          ),
        );
        const denials = await store.read.reconciliation.unattributedDenials();
        expect(denials.map((d) => d.executor)).toEqual([plain]);
      });

      it('make the next incremental pass judge callers again, and only that pass', async () => {
        const store = storeOf();
        const clock = new ManualClock(AT);
        const ring = await loadOrCreateKeyRing(store, randomBytes(32), clock);
        await observeUnapprovedGrant(store, 'obs_1');
        await integrateAll(store, clock, ring);
        const quiet = await changedSince(store, 0);
        expect(quiet.unattributed).toBe(false);

        await store.transaction((tx) =>
          record(
            tx,
            'redemption.denied',
            clock.now(),
            'deploy-us',
            {},
            { code: 'SIGNATURE_INVALID' },
          ),
        );
        // Still queued, it counts: the pass after its integration must see it.
        expect((await changedSince(store, quiet.treeSize)).unattributed).toBe(true);
        await integrateAll(store, clock, ring);
        const after = await changedSince(store, quiet.treeSize);
        expect(after.unattributed).toBe(true);
        expect((await changedSince(store, after.treeSize)).unattributed).toBe(false);
        expect(
          (await store.snapshot((view) => view.reconciliation.changedSubjects(null))).unattributed,
        ).toBe(true);
      });
    },
  );
}
