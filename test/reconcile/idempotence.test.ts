import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FulfilmentPhase } from '../../src/fulfilment/fulfilment.js';
import type { Observation } from '../../src/observation/observation.js';
import { FINDING_STATES, type FindingState } from '../../src/reconcile/finding.js';
import type { ApprovedGrant, ExistingFinding, ReconcileInput } from '../../src/reconcile/input.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
import { exceptionsReport } from '../../src/reconcile/exceptions.js';
import { denial, fp, fulfilment, grant, held, observation, version } from './builders.js';
import { HOUR, iso, MINUTE, when } from './time.js';
import { generateReconcileInput } from '../fixtures/reconcile-input.js';
import { input, keys, recorded } from './helpers.js';

// Tiny alphabets, so that generated records often meet at the same subject and target.
const SUBJECTS = ['svc:a', 'svc:b', 'agent:c'];
const TARGETS = ['eu', 'us', 'ap', 'default'];
const RESOURCES = ['db/orders', 'db/invoices', 'db/*', 'queue/x'];
const PERMS = ['read', 'write'];
const WARRANTS = ['wrt_0', 'wrt_1', 'wrt_2', 'wrt_3', 'wrt_9'];

const minutes = fc.integer({ min: -120, max: 480 }).map((m) => m * MINUTE);
const oneOf = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);

const grants: fc.Arbitrary<ApprovedGrant[]> = fc
  .array(
    fc.record({
      subject: oneOf(SUBJECTS),
      action: oneOf(['grant', 'grant', 'rotate', 'custom'] as const),
      resource: oneOf(RESOURCES),
      perms: fc.subarray(PERMS, { minLength: 1 }),
      targets: fc.subarray(['eu', 'us', 'ap']),
      start: minutes,
      hours: fc.integer({ min: 1, max: 3 }),
      revokedAfter: fc.option(fc.integer({ min: 0, max: 240 }).map((m) => m * MINUTE)),
    }),
    { maxLength: 4 },
  )
  .map((specs) =>
    specs.map((s, i) =>
      grant({
        warrantId: `wrt_${i}`,
        subject: s.subject,
        action: s.action,
        scope: [{ resource: s.resource, permissions: s.perms }],
        targets: s.targets,
        notBefore: iso(s.start),
        notAfter: iso(s.start + s.hours * HOUR),
        revokedAt: s.revokedAfter === null ? null : iso(s.start + s.revokedAfter),
      }),
    ),
  );

const fulfilments = fc
  .array(
    fc.record({
      warrantId: oneOf(WARRANTS),
      subject: oneOf(SUBJECTS),
      target: oneOf(TARGETS),
      phase: oneOf<FulfilmentPhase>(['apply', 'revoke']),
      outcome: oneOf(['success', 'success', 'failure'] as const),
      fingerprint: oneOf([fp('1'), fp('2'), fp('3')]),
      atMs: minutes,
    }),
    { maxLength: 8 },
  )
  .map((specs) => specs.map((s, i) => fulfilment({ ...s, id: `ful_${i}` })));

const observations: fc.Arbitrary<Observation[]> = fc
  .array(
    fc.record({
      subject: oneOf(SUBJECTS),
      target: oneOf(TARGETS),
      ms: minutes,
      fact: fc.oneof(
        oneOf([fp('1'), fp('2'), fp('3')]).map(version),
        fc.tuple(oneOf(RESOURCES), oneOf(PERMS), fc.boolean()).map(([r, p, x]) => held(r, p, x)),
      ),
    }),
    { maxLength: 16 },
  )
  .map((specs) => specs.map((s, i) => observation(`obs_${i}`, s.subject, s.target, s.ms, s.fact)));

const denials = fc
  .array(oneOf(WARRANTS), { maxLength: 8 })
  .map((ws) => ws.map((w, i) => denial(`den_${i}`, w, i)));

const inputs: fc.Arbitrary<ReconcileInput> = fc
  .record({ now: minutes, grants, fulfilments, observations, denials })
  .map((r) => input({ ...r, now: when(r.now) }));

/**
 * Some earlier findings, in every state, on keys that reconcile may or may not raise; a
 * resolved one was resolved by reconciliation when `automatic[i]`, else by a person.
 */
const withExisting = (
  base: ReconcileInput,
  states: readonly (FindingState | undefined)[],
  automatic: readonly boolean[] = [],
): ReconcileInput => {
  const candidates = keys(reconcile(base).raise);
  const existing = new Map<string, ExistingFinding>(
    candidates.flatMap((key, i) => {
      const state = states[i];
      if (state === undefined) return [];
      return [[key, { id: `fnd_${i}`, state, automatic: automatic[i] === true }] as const];
    }),
  );
  return { ...base, existing };
};

describe('reconcile', () => {
  describe('when one warrant is refused again and again', () => {
    const g = grant({ warrantId: 'wrt_x', notAfter: iso(10 * HOUR) });
    const three = [
      denial('d1', 'wrt_x', 1),
      denial('d2', 'wrt_x', 2),
      denial('d3', 'wrt_x', 3, 'EXECUTOR_MISMATCH'),
    ];

    it('raises REDEMPTION_ABUSE at three denials, citing the denials and the warrant', () => {
      const { raise } = reconcile(input({ now: when(0), grants: [g], denials: three }));
      expect(raise).toEqual([
        expect.objectContaining({
          kind: 'REDEMPTION_ABUSE',
          key: 'REDEMPTION_ABUSE|wrt_x',
          subject: g.subject,
          requestId: g.requestId,
          evidence: {
            warrants: ['wrt_x'],
            redemptions: ['d1', 'd2', 'd3'],
            fulfilments: [],
            observations: [],
          },
        }),
      ]);
    });

    it('raises nothing below the threshold, and honours a lower threshold', () => {
      const two = { now: when(0), grants: [g], denials: three.slice(0, 2) };
      expect(reconcile(input(two)).raise).toEqual([]);
      expect(keys(reconcile(input({ ...two, abuseThreshold: 2 })).raise)).toEqual([
        'REDEMPTION_ABUSE|wrt_x',
      ]);
    });

    it('never raises a key that already exists, whatever its state', () => {
      for (const state of FINDING_STATES) {
        const existing = new Map([['REDEMPTION_ABUSE|wrt_x', { id: 'fnd_1', state }]]);
        const r = reconcile(input({ now: when(0), grants: [g], denials: three, existing }));
        expect(r).toEqual({ raise: [], reopen: [], resolve: [] });
      }
    });

    it('reopens the key when reconciliation had resolved it itself', () => {
      const existing = new Map([
        ['REDEMPTION_ABUSE|wrt_x', { id: 'fnd_1', state: 'resolved' as const, automatic: true }],
      ]);
      const r = reconcile(input({ now: when(0), grants: [g], denials: three, existing }));
      expect(r.raise).toEqual([]);
      expect(r.reopen).toEqual([
        { findingId: 'fnd_1', finding: expect.objectContaining({ key: 'REDEMPTION_ABUSE|wrt_x' }) },
      ]);
    });
  });

  describe('when refusals go on after a person resolved the abuse finding', () => {
    const g = grant({ warrantId: 'wrt_x', notAfter: iso(10 * HOUR) });
    const resolvedBy = (at: number, state: FindingState = 'resolved'): ExistingFinding => ({
      id: `fnd_${at}`,
      state,
      automatic: false,
      resolvedAt: iso(at),
    });
    const burst = (from: number, n: number, warrantId = 'wrt_x') =>
      Array.from({ length: n }, (_, i) => denial(`d${from + i}`, warrantId, from + i));

    it('raises the next occurrence once as many refusals follow the resolution, citing only them', () => {
      const existing = new Map([['REDEMPTION_ABUSE|wrt_x', resolvedBy(100)]]);
      const denials = [...burst(1, 3), ...burst(101, 3)];
      const { raise } = reconcile(input({ now: when(200), grants: [g], denials, existing }));
      expect(raise).toEqual([
        expect.objectContaining({
          kind: 'REDEMPTION_ABUSE',
          key: 'REDEMPTION_ABUSE|wrt_x|after|fnd_100',
          detail: `warrant wrt_x was refused 3 times since ${iso(100)} by 1 caller(s) (SCOPE_EXCEEDED)`,
          evidence: expect.objectContaining({ redemptions: ['d101', 'd102', 'd103'] }),
        }),
      ]);
    });

    it('counts none of the refusals the resolution settled', () => {
      const existing = new Map([['REDEMPTION_ABUSE|wrt_x', resolvedBy(100)]]);
      const denials = [...burst(1, 3), ...burst(99, 2), ...burst(101, 2)];
      expect(reconcile(input({ now: when(200), grants: [g], denials, existing })).raise).toEqual(
        [],
      );
    });

    it('raises nothing more while the next occurrence is open, and the one after its resolution', () => {
      const again = 'REDEMPTION_ABUSE|wrt_x|after|fnd_100';
      const denials = [...burst(1, 3), ...burst(101, 3), ...burst(201, 3)];
      const open = new Map([
        ['REDEMPTION_ABUSE|wrt_x', resolvedBy(100)],
        [again, { id: 'fnd_2', state: 'open' as const }],
      ]);
      expect(
        reconcile(input({ now: when(300), grants: [g], denials, existing: open })).raise,
      ).toEqual([]);
      const settled = new Map([...open, [again, resolvedBy(200)]]);
      const r = reconcile(input({ now: when(300), grants: [g], denials, existing: settled }));
      expect(keys(r.raise)).toEqual(['REDEMPTION_ABUSE|wrt_x|after|fnd_200']);
    });

    it('counts only refusals after the latest resolution, even one stamped earlier than the last', () => {
      // The clock stepped back: the next occurrence was resolved "before" the first was.
      const again = 'REDEMPTION_ABUSE|wrt_x|after|fnd_100';
      const existing = new Map([
        ['REDEMPTION_ABUSE|wrt_x', resolvedBy(100)],
        [again, { ...resolvedBy(50), id: 'fnd_2' }],
      ]);
      const denials = [...burst(60, 3), ...burst(101, 2)];
      const r = reconcile(input({ now: when(300), grants: [g], denials, existing }));
      expect(r.raise).toEqual([]);
      const more = [...denials, ...burst(103, 1)];
      const next = reconcile(input({ now: when(300), grants: [g], denials: more, existing }));
      expect(next.raise).toEqual([
        expect.objectContaining({
          key: 'REDEMPTION_ABUSE|wrt_x|after|fnd_2',
          evidence: expect.objectContaining({ redemptions: ['d101', 'd102', 'd103'] }),
        }),
      ]);
    });

    it('ends its walk when an occurrence is resolved at the very instant it began', () => {
      const again = 'REDEMPTION_ABUSE|wrt_x|after|fnd_100';
      const existing = new Map([
        ['REDEMPTION_ABUSE|wrt_x', resolvedBy(100)],
        [again, { ...resolvedBy(100), id: 'fnd_2' }],
        // A malformed map whose next key names a finding already walked past.
        ['REDEMPTION_ABUSE|wrt_x|after|fnd_2', resolvedBy(100)],
      ]);
      const denials = burst(101, 3);
      const r = reconcile(input({ now: when(300), grants: [g], denials, existing }));
      expect(r.raise).toEqual([]);
    });

    it('counts the refusals of a caller holding no warrant the same way', () => {
      const forged = burst(101, 3, 'unused').map((d) => ({ ...d, warrantId: null }));
      const existing = new Map([['REDEMPTION_ABUSE|caller|intruder', resolvedBy(100)]]);
      const r = reconcile(input({ now: when(200), denials: forged, existing }));
      expect(r.raise).toEqual([
        expect.objectContaining({
          key: 'REDEMPTION_ABUSE|caller|intruder|after|fnd_100',
          detail: `intruder was refused 3 times since ${iso(100)} presenting no warrant this server holds (SCOPE_EXCEEDED)`,
        }),
      ]);
    });
  });

  describe('when a caller names itself like the next occurrence of another caller', () => {
    // An OIDC subject is the provider's text: a branch name can hold `|`.
    const impostor = 'intruder|after|fnd_100';
    const forged = (executor: string, from: number) =>
      Array.from({ length: 3 }, (_, i) => ({
        ...denial(`${executor}-${from + i}`, 'unused', from + i),
        warrantId: null,
        executor,
      }));

    it("raises its own finding, which does not stand for the other caller's", () => {
      const first = reconcile(input({ now: when(50), denials: forged(impostor, 1) }));
      expect(keys(first.raise)).toEqual(['REDEMPTION_ABUSE|caller|intruder\\|after\\|fnd_100']);
      const existing = new Map<string, ExistingFinding>([
        [first.raise[0]!.key, { id: 'fnd_7', state: 'open' }],
        [
          'REDEMPTION_ABUSE|caller|intruder',
          { id: 'fnd_100', state: 'resolved', automatic: false, resolvedAt: iso(100) },
        ],
      ]);
      const denials = [...forged(impostor, 1), ...forged('intruder', 101)];
      const r = reconcile(input({ now: when(200), denials, existing }));
      expect(keys(r.raise)).toEqual(['REDEMPTION_ABUSE|caller|intruder|after|fnd_100']);
    });
  });

  describe('when a caller is refused again and again with no warrant the server holds', () => {
    const forged = (id: string, executor: string, code = 'WARRANT_INVALID') => ({
      ...denial(id, 'unused', 1, code),
      warrantId: null,
      executor,
    });

    it('raises REDEMPTION_ABUSE against the caller, citing the denials', () => {
      const denials = [
        forged('d1', 'deploy-eu'),
        forged('d2', 'deploy-eu', 'REDEMPTION_MALFORMED'),
        forged('d3', 'deploy-eu'),
      ];
      expect(reconcile(input({ now: when(0), denials })).raise).toEqual([
        {
          kind: 'REDEMPTION_ABUSE',
          key: 'REDEMPTION_ABUSE|caller|deploy-eu',
          requestId: null,
          warrantId: null,
          subject: '',
          target: null,
          detail:
            'deploy-eu was refused 3 times presenting no warrant this server holds (REDEMPTION_MALFORMED, WARRANT_INVALID)',
          evidence: {
            warrants: [],
            redemptions: ['d1', 'd2', 'd3'],
            fulfilments: [],
            observations: [],
          },
        },
      ]);
    });

    it('counts each caller apart, and never with the denials of a held warrant', () => {
      const denials = [
        forged('d1', 'deploy-eu'),
        forged('d2', 'deploy-eu'),
        forged('d3', 'deploy-us'),
        { ...denial('d4', 'wrt_x', 2), executor: 'deploy-eu' },
      ];
      expect(reconcile(input({ now: when(0), denials })).raise).toEqual([]);
    });
  });

  describe('when run twice, with the first run recorded', () => {
    it('raises nothing the second time, for any input', () => {
      fc.assert(
        fc.property(inputs, (base) => {
          const first = reconcile(base);
          const again = reconcile({ ...base, existing: recorded(first.raise, base.existing) });
          expect(again.raise).toEqual([]);
        }),
      );
    });

    it('raises nothing the second time on generated realistic inputs', () => {
      for (const seed of [1, 2, 3]) {
        const base = generateReconcileInput(60, 400, seed);
        const first = reconcile(base);
        expect(first.raise.length).toBeGreaterThan(0);
        expect(reconcile({ ...base, existing: recorded(first.raise) }).raise).toEqual([]);
      }
    });
  });

  describe('when some findings already exist in any state', () => {
    const states = fc.array(fc.option(oneOf(FINDING_STATES), { nil: undefined }), {
      maxLength: 12,
    });

    it('raises each key at most once and never one that exists', () => {
      fc.assert(
        fc.property(inputs, states, (base, s) => {
          const withOld = withExisting(base, s);
          const { raise } = reconcile(withOld);
          const raised = keys(raise);
          expect(new Set(raised).size).toBe(raised.length);
          for (const key of raised) expect(withOld.existing.has(key)).toBe(false);
          for (const f of raise) expect(f.key.startsWith(`${f.kind}|`)).toBe(true);
        }),
      );
    });

    it('reopens exactly the existing keys that hold again and that reconciliation had resolved', () => {
      fc.assert(
        fc.property(inputs, states, fc.array(fc.boolean(), { maxLength: 12 }), (base, s, a) => {
          const withOld = withExisting(base, s, a);
          const expected = [...withOld.existing]
            .filter(([, e]) => e.state === 'resolved' && e.automatic === true)
            .map(([key, e]) => ({ findingId: e.id, key }));
          const { reopen } = reconcile(withOld);
          expect(reopen.map((r) => ({ findingId: r.findingId, key: r.finding.key }))).toEqual(
            expect.arrayContaining(expected),
          );
          expect(reopen).toHaveLength(expected.length);
        }),
      );
    });

    it('resolves only unresolved existing findings, with the reason "condition cleared"', () => {
      fc.assert(
        fc.property(inputs, states, (base, s) => {
          const withOld = withExisting(base, s);
          for (const r of reconcile(withOld).resolve) {
            const e = withOld.existing.get(r.key);
            expect(e?.id).toBe(r.findingId);
            expect(e?.state).not.toBe('resolved');
            expect(r.reason).toMatch(/^condition cleared: /);
          }
        }),
      );
    });
  });

  describe('when compared with the exceptions report', () => {
    it('raises EXPIRED_NOT_REVOKED exactly for the exceptions reported expired and not revoked', () => {
      fc.assert(
        fc.property(inputs, (base) => {
          const expired = new Set(
            reconcile(base)
              .raise.filter((f) => f.kind === 'EXPIRED_NOT_REVOKED')
              .map((f) => f.warrantId),
          );
          const report = exceptionsReport(
            base.grants,
            base.fulfilments,
            base.observations,
            base.now,
          );
          const reported = report.filter((e) => e.status === 'expired_not_revoked');
          expect(new Set(reported.map((e) => e.warrantId))).toEqual(expired);
        }),
      );
    });
  });
});
