import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { seedRecords, seedSubjects } from '../../bench/seed.js';
import { ManualClock } from '../../src/core/clock.js';
import type { NhiId, PrincipalId, ReceiptId, RequestId, WarrantId } from '../../src/core/ids.js';
import type { FulfilmentId } from '../../src/fulfilment/fulfilment.js';
import type { ObservationId } from '../../src/observation/observation.js';
import type { ApprovedGrant, ReconcileInput } from '../../src/reconcile/input.js';
import { loadOrCreateKeyRing } from '../../src/service/keys.js';
import {
  planSlices,
  type ReconcilePlan,
  type ReconcilePlanner,
} from '../../src/service/reconcile-plan.js';
import { FULL_PASS_EVERY_MS } from '../../src/service/reconcile-reach.js';
import { runReconcile, type ReconcileSummary } from '../../src/service/reconcile.js';
import type { Store } from '../../src/service/ports/store.js';
import { BASE, denseInput, MINUTE } from '../fixtures/dense-history.js';
import { generateReconcileInput } from '../fixtures/reconcile-input.js';
import { until } from '../helpers/broker.js';
import { DIALECTS, type StoreFixture } from '../helpers/dialects.js';
import { integrateAll, observeUnapprovedGrant } from '../helpers/unapproved-grant.js';

/** What happened by `until` (and after `from`): each record at the time a server writes it. */
function between(input: ReconcileInput, from: number, until: number): ReconcileInput {
  const inWindow = (at: string) => Date.parse(at) > from && Date.parse(at) <= until;
  return {
    ...input,
    grants: input.grants.filter((g) => inWindow(g.notBefore)),
    fulfilments: input.fulfilments.filter((f) => inWindow(f.at)),
    observations: input.observations.filter((o) => inWindow(o.receivedAt)),
    redemptions: input.redemptions.filter((r) => inWindow(r.at)),
    denials: input.denials.filter((d) => inWindow(d.at)),
  };
}

/** The warrants revoked after `from` and by `until`. */
const revokedBetween = (input: ReconcileInput, from: number, until: number) =>
  input.grants.filter(
    (g) =>
      g.revokedAt !== null && Date.parse(g.revokedAt) > from && Date.parse(g.revokedAt) <= until,
  );

/** A store whose log is integrated before each pass, as the server's integrator does. */
async function world(open: () => Promise<StoreFixture>) {
  const fx = await open();
  const clock = new ManualClock(new Date(BASE));
  const ring = await loadOrCreateKeyRing(fx.store, randomBytes(32), clock);
  const store: Store = fx.store;
  const integrate = () => integrateAll(store, clock, ring);
  const pass = async (
    at: number,
    full: boolean,
    opts: { readonly integrate?: boolean; readonly planner?: ReconcilePlanner } = {},
  ): Promise<ReconcileSummary> => {
    clock.set(new Date(at));
    return runReconcile(
      {
        store,
        clock,
        integrateLog: opts.integrate === false ? () => Promise.resolve() : integrate,
        reconcile: {
          driftGraceMs: 10 * MINUTE,
          planner:
            opts.planner ??
            ((p, onSlice) => planSlices(store, { ...p, subjectsPerSlice: 4 }, onSlice)),
        },
      },
      { full },
    );
  };
  return { fx, store, pass, integrate };
}

/** Every finding, without its random id: what a pass decided. */
async function findings(store: Store) {
  const all = await store.read.findings.list(undefined, 100_000);
  return all
    .map((f) => ({ key: f.key, kind: f.kind, state: f.state, evidence: f.evidence }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
}

/**
 * Sightings made at `at` after every window ended, for a few subjects: each shows again a
 * grant or a secret version other than the last one seen, so there is something to find.
 */
function lateRecords(input: ReconcileInput, at: number): Pick<ReconcileInput, 'observations'> {
  const seen = new Set<string>();
  const observations = input.observations.flatMap((o, i) => {
    if (seen.has(o.subject) || seen.size >= 5) return [];
    seen.add(o.subject);
    const fact =
      o.fact.kind === 'grant'
        ? { ...o.fact, present: true }
        : { ...o.fact, fingerprint: `sha256:${'f'.repeat(63)}${i % 10}` };
    const when = new Date(at).toISOString();
    return [{ ...o, id: `late-${i}` as typeof o.id, fact, observedAt: when, receivedAt: when }];
  });
  return { observations: [...input.observations, ...observations] };
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `incremental reconciliation on the ${dialect.name} store`,
    () => {
      afterAll(() => dialect.close());

      /**
       * Two stores receive the same records, each when it happened; one reconciles only
       * what changed since its last pass, the other every subject every time. After every
       * pass both hold the same findings, in the same states, with the same proofs.
       */
      async function expectSameAsFull(input: ReconcileInput, instants: readonly number[]) {
        const inc = await world(() => dialect.open());
        const full = await world(() => dialect.open());
        const summaries: ReconcileSummary[] = [];
        try {
          let from = Number.NEGATIVE_INFINITY;
          for (const w of [inc, full]) await seedSubjects(w.store, input);
          for (const at of instants) {
            for (const w of [inc, full])
              await seedRecords(w.store, between(input, from, at), {
                events: true,
                revocations: revokedBetween(input, from, at),
              });
            from = at;
            summaries.push(await inc.pass(at, false));
            const whole = await full.pass(at, true);
            expect(whole.full).toBe(true);
            expect(await findings(inc.store)).toEqual(await findings(full.store));
          }
          return { summaries, raised: (await findings(full.store)).length };
        } finally {
          await inc.fx.dispose();
          await full.fx.dispose();
        }
      }

      it('raises and resolves what a pass over every subject does, in a dense history', async () => {
        const instants = [25, 40, 55, 70, 85, 100, 115, 130, 160, 220, 400].map(
          (m) => BASE + m * MINUTE,
        );
        const { summaries, raised } = await expectSameAsFull(denseInput(11), instants);
        expect(raised).toBeGreaterThan(20);
        // The first pass, then one an hour after each pass over every subject, plan everything.
        expect(summaries.map((s) => s.full)).toEqual(
          [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1].map((full) => full === 1),
        );
      });

      it('plans only the subjects that changed, with many subjects, and agrees all the same', async () => {
        const input = generateReconcileInput(160, 3_000, 10);
        // Passes seven minutes apart through the busiest hour: windows end and records
        // arrive between passes, and no pass is an hour after the first.
        const times = input.grants.map((g) => Date.parse(g.notBefore)).sort((a, b) => a - b);
        const mid = times[Math.floor(times.length / 2)] as number;
        const instants = Array.from({ length: 9 }, (_, i) => mid + i * 7 * MINUTE);
        const { summaries, raised } = await expectSameAsFull(input, instants);
        expect(raised).toBeGreaterThan(50);
        expect(summaries.slice(1).every((s) => !s.full)).toBe(true);
      });

      it('plans only the subjects with late records once every window has ended', async () => {
        const input = generateReconcileInput(160, 3_000, 9);
        const after = input.now.getTime() + 6 * 60 * MINUTE;
        const late = lateRecords(input, after + 5 * MINUTE);
        const passes = [0, 3, 7, 14, 21].map((m) => after + m * MINUTE);
        const { summaries } = await expectSameAsFull({ ...input, ...late }, passes);
        const changed = new Set(
          late.observations.filter((o) => o.id.startsWith('late-')).map((o) => o.subject),
        );
        const [first, second, third, , fifth] = summaries as [
          ReconcileSummary,
          ReconcileSummary,
          ReconcileSummary,
          ReconcileSummary,
          ReconcileSummary,
        ];
        expect(first).toMatchObject({ full: true });
        expect(first.raised).toBeGreaterThan(0);
        // The next pass judges again the subjects whose findings the first one raised.
        expect(second).toMatchObject({ full: false, raised: 0, resolved: 0 });
        expect(second.planned).toBeGreaterThan(0);
        // Then only those with late sightings, and once more those it raised findings for.
        expect(third).toMatchObject({ full: false, planned: changed.size });
        expect(third.raised).toBeGreaterThan(0);
        expect(fifth).toMatchObject({ full: false, planned: 0 });
      });

      it('judges windows that end between two passes with nothing logged in between', async () => {
        // A rotation never fulfilled, and a grant applied and still observed present:
        // both windows end between the passes, and nothing is written meanwhile.
        const start = BASE + 5 * MINUTE;
        const end = start + 30 * MINUTE;
        const grant = (i: number, action: 'rotate' | 'grant'): ApprovedGrant => ({
          requestId: `${String(i).repeat(64)}`,
          warrantId: `wrt_w${i}`,
          subject: `svc:quiet-${i}`,
          action,
          scope: [{ resource: 'db/orders', permissions: ['read'] }],
          environment: 'prod',
          targets: ['eu'],
          notBefore: new Date(start).toISOString(),
          notAfter: new Date(end).toISOString(),
          revokedAt: null,
        });
        const rotation = grant(1, 'rotate');
        const exception = grant(2, 'grant');
        const at = new Date(start + MINUTE).toISOString();
        const input: ReconcileInput = {
          now: new Date(end + 10 * MINUTE),
          grants: [rotation, exception],
          fulfilments: [
            {
              id: 'ful_w2' as FulfilmentId,
              requestId: exception.requestId as RequestId,
              warrantId: exception.warrantId as WarrantId,
              receiptId: 'rcp_w2' as ReceiptId,
              executor: 'deployer' as PrincipalId,
              subject: exception.subject as NhiId,
              target: 'eu',
              phase: 'apply',
              outcome: 'success',
              fingerprint: null,
              detail: null,
              at,
            },
          ],
          observations: [
            {
              id: 'obs_w2' as ObservationId,
              observer: 'collector' as PrincipalId,
              subject: exception.subject as NhiId,
              target: 'eu',
              observedAt: at,
              receivedAt: at,
              fact: { kind: 'grant', resource: 'db/orders', permission: 'read', present: true },
            },
          ],
          redemptions: [],
          denials: [],
          existing: new Map(),
        };
        const { summaries } = await expectSameAsFull(input, [start + 2 * MINUTE, end + 5 * MINUTE]);
        expect(summaries.map((s) => [s.full, s.planned, s.raised])).toEqual([
          [true, 2, 0],
          [false, 2, 2],
        ]);
      });

      it('plans the subject of an event not yet in the log, and defers its finding', async () => {
        const w = await world(() => dialect.open());
        try {
          expect(await w.pass(BASE, false)).toMatchObject({ full: true, planned: 0 });
          await observeUnapprovedGrant(w.store, 'o1');
          // Nothing integrates the observation's event: it is read as changed all the same.
          expect(await w.pass(BASE + MINUTE, false, { integrate: false })).toMatchObject({
            full: false,
            planned: 1,
            raised: 0,
            deferred: 1,
          });
          expect(await w.pass(BASE + 2 * MINUTE, false)).toMatchObject({ planned: 1, raised: 1 });
        } finally {
          await w.fx.dispose();
        }
      });

      it('judges again the subject of a finding an older pass wrote after a newer pass ended', async () => {
        const w = await world(() => dialect.open());
        try {
          await w.pass(BASE, false);
          await observeUnapprovedGrant(w.store, 'o1');
          await w.integrate();
          // Pass A plans from its snapshot now, but hands its finding over only later.
          let release = () => {};
          const held = new Promise<void>((r) => (release = r));
          const parts: ReconcilePlan[] = [];
          const slow: ReconcilePlanner = async (p, onSlice) => {
            const reach = await planSlices(w.store, p, (part) => parts.push(part));
            await held;
            parts.forEach(onSlice);
            return reach;
          };
          const older = w.pass(BASE + MINUTE, false, { planner: slow });
          await until(() => parts.length > 0, 'the older pass to plan', 5_000, 5);
          // Pass B starts later, reaches further and ends first, without judging the
          // subject (as if its snapshot had shown the condition already cleared).
          const blind: ReconcilePlanner = (p, onSlice) =>
            planSlices(
              w.store,
              { ...p, since: { treeSize: Number.MAX_SAFE_INTEGER, at: p.now } },
              onSlice,
            );
          expect(await w.pass(BASE + 2 * MINUTE, false, { planner: blind })).toMatchObject({
            planned: 0,
          });
          release();
          expect(await older).toMatchObject({ raised: 1 });
          // The finding A raised after B's mark makes the next pass judge its subject.
          expect(await w.pass(BASE + 3 * MINUTE, false)).toMatchObject({ full: false, planned: 1 });
          expect(await w.pass(BASE + 4 * MINUTE, false)).toMatchObject({ planned: 0 });
        } finally {
          await w.fx.dispose();
        }
      });

      it('plans nothing when nothing changed and no window was open, then every subject after an hour', async () => {
        const input = generateReconcileInput(40, 400, 3);
        const w = await world(() => dialect.open());
        try {
          await seedSubjects(w.store, input);
          await seedRecords(w.store, input, { events: true, revocations: input.grants });
          const at = input.now.getTime() + 30 * 24 * 60 * MINUTE;
          expect(await w.pass(at, false)).toMatchObject({ full: true });
          // Once more for the subjects whose findings it raised, then nothing.
          expect(await w.pass(at + MINUTE, false)).toMatchObject({ full: false, raised: 0 });
          expect(await w.pass(at + 2 * MINUTE, false)).toMatchObject({
            full: false,
            planned: 0,
            raised: 0,
          });
          const hourly = await w.pass(at + FULL_PASS_EVERY_MS, false);
          expect(hourly).toMatchObject({ full: true, raised: 0 });
          expect(hourly.planned).toBeGreaterThan(0);
          // A clock set back behind the last pass cannot trust the watermark either.
          expect(await w.pass(at, false)).toMatchObject({ full: true });
        } finally {
          await w.fx.dispose();
        }
      });
    },
  );
}
