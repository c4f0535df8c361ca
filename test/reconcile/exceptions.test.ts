import { describe, expect, it } from 'vitest';
import { exceptionsReport, type ExceptionEntry } from '../../src/reconcile/exceptions.js';
import { fp, fulfilment, grant, held, observation } from './builders.js';
import { HOUR, iso, MINUTE, when } from './time.js';

const AGENT = 'agent:ops-bot';
const window2h = { subject: AGENT, notAfter: iso(2 * HOUR), targets: ['eu', 'us'] };
const seen = (id: string, target: string, ms: number, present: boolean) =>
  observation(id, AGENT, target, ms, held('db/orders', 'read', present));
const applied = (warrantId: string, target: string, subject = AGENT) =>
  fulfilment({
    id: `ful_${warrantId}_${target}`,
    warrantId,
    subject,
    target,
    fingerprint: fp(warrantId),
  });
const revoked = (warrantId: string, target: string, atMs = 2 * HOUR + 5 * MINUTE) =>
  fulfilment({
    id: `rev_${warrantId}_${target}`,
    warrantId,
    subject: AGENT,
    target,
    phase: 'revoke',
    atMs,
  });

const byWarrant = (entries: readonly ExceptionEntry[]): Map<string, ExceptionEntry> =>
  new Map(entries.map((e) => [e.warrantId, e]));

describe('exceptionsReport', () => {
  describe('when time-boxed grants were revoked, left in place, or are still running', () => {
    const grants = [
      grant({ ...window2h, warrantId: 'wrt_done' }),
      grant({ ...window2h, warrantId: 'wrt_left', targets: ['eu'], subject: 'agent:other' }),
      grant({ ...window2h, warrantId: 'wrt_half', subject: 'svc:half' }),
      grant({ ...window2h, warrantId: 'wrt_one' }),
      grant({
        ...window2h,
        warrantId: 'wrt_running',
        subject: 'svc:running',
        notAfter: iso(10 * HOUR),
      }),
      grant({ ...window2h, warrantId: 'wrt_rotation', action: 'rotate' }),
      grant({
        ...window2h,
        warrantId: 'wrt_unused',
        subject: 'svc:unused',
        revokedAt: iso(MINUTE),
      }),
    ];
    const fulfilments = [
      applied('wrt_done', 'eu'),
      applied('wrt_done', 'us'),
      revoked('wrt_done', 'eu'),
      revoked('wrt_done', 'us'),
      applied('wrt_left', 'eu', 'agent:other'),
      revoked('wrt_half', 'eu'),
      revoked('wrt_one', 'eu'),
    ];
    // Both of wrt_half's targets were redeemed; only eu of wrt_one's.
    const redemptions = [
      ['wrt_half', 'eu'],
      ['wrt_half', 'us'],
      ['wrt_one', 'eu'],
    ].map(([warrantId, target], i) => ({
      id: String(i + 1),
      warrantId: warrantId as string,
      receiptId: `rcp_${warrantId}_${target}`,
      target: target as string,
      at: iso(10 * MINUTE),
    }));
    const observations = [
      seen('o_done_eu', 'eu', 2 * HOUR + 10 * MINUTE, false),
      seen('o_done_us', 'us', 2 * HOUR + 10 * MINUTE, false),
      observation('o_left', 'agent:other', 'eu', 3 * HOUR, held('db/orders', 'read')),
      observation('o_running', 'svc:running', 'eu', HOUR, held('db/orders', 'read')),
    ];
    const report = byWarrant(
      exceptionsReport(grants, fulfilments, observations, when(4 * HOUR), redemptions),
    );

    it('lists only grant-action warrants', () => {
      expect([...report.keys()]).toEqual([
        'wrt_done',
        'wrt_left',
        'wrt_half',
        'wrt_one',
        'wrt_running',
        'wrt_unused',
      ]);
    });

    it('reports a grant revoked at every target and no longer seen as revoked', () => {
      const done = report.get('wrt_done');
      expect(done?.status).toBe('revoked');
      expect(done?.targets).toEqual([
        expect.objectContaining({
          target: 'eu',
          revoked: true,
          stillObserved: false,
          windowEnded: true,
        }),
        expect.objectContaining({
          target: 'us',
          revoked: true,
          stillObserved: false,
          windowEnded: true,
        }),
      ]);
      expect(done?.targets[0]?.evidence.fulfilments).toEqual([
        'ful_wrt_done_eu',
        'rev_wrt_done_eu',
      ]);
    });

    it('reports a grant still observed after its window as expired and not revoked', () => {
      const left = report.get('wrt_left');
      expect(left?.status).toBe('expired_not_revoked');
      expect(left?.targets).toEqual([
        expect.objectContaining({ target: 'eu', revoked: false, stillObserved: true }),
      ]);
      expect(left?.targets[0]?.evidence.observations).toEqual(['o_left']);
    });

    it('reports a grant revoked at only some targets as expired and not revoked', () => {
      const half = report.get('wrt_half');
      expect(half?.status).toBe('expired_not_revoked');
      expect(half?.targets.map((t) => [t.target, t.revoked])).toEqual([
        ['eu', true],
        ['us', false],
      ]);
    });

    it('owes no revocation where the grant was never redeemed, applied or seen, once it ended', () => {
      // us could never be reported revoked: no receipt for it can be redeemed after the window.
      const one = report.get('wrt_one');
      expect(one?.status).toBe('revoked');
      expect(one?.targets.map((t) => [t.target, t.revoked, t.revocationRequired])).toEqual([
        ['eu', true, true],
        ['us', false, false],
      ]);
    });

    it('reports a grant whose window is still open as active', () => {
      const running = report.get('wrt_running');
      expect(running?.status).toBe('active');
      expect(running?.targets[0]).toMatchObject({
        windowEnded: false,
        stillObserved: true,
        revoked: false,
      });
    });

    it('reports a warrant revoked before use as revoked, with nothing to take away', () => {
      const unused = report.get('wrt_unused');
      expect(unused?.status).toBe('revoked');
      expect(unused?.endsAt).toBe(iso(MINUTE));
      expect(unused?.targets.every((t) => !t.revocationRequired && !t.revoked)).toBe(true);
    });
  });

  describe('when a renewal is in force after the first grant ended', () => {
    /** wrt_1 (two hours, revoked), its renewal wrt_2 from `renewedAt` to 6 h, one sighting. */
    const reportWith = (renewedAt: number, seenAt: number, now: number) =>
      byWarrant(
        exceptionsReport(
          [
            grant({ ...window2h, warrantId: 'wrt_1', targets: ['eu'] }),
            grant({
              ...window2h,
              warrantId: 'wrt_2',
              targets: ['eu'],
              notBefore: iso(renewedAt),
              notAfter: iso(6 * HOUR),
            }),
          ],
          [revoked('wrt_1', 'eu')],
          [seen('o1', 'eu', seenAt, true)],
          when(now),
        ),
      );

    it('does not count the renewed presence against the first grant', () => {
      const report = reportWith(2 * HOUR, 3 * HOUR, 4 * HOUR);
      expect(report.get('wrt_1')?.status).toBe('revoked');
      expect(report.get('wrt_2')?.status).toBe('active');
    });

    it("counts a presence seen at the very instant the renewal ends as the renewal's", () => {
      // A redemption at exactly notAfter is allowed, so the renewal is in force then.
      const report = reportWith(HOUR, 6 * HOUR, 7 * HOUR);
      expect(report.get('wrt_1')?.status).toBe('revoked');
    });
  });
});

describe('exceptionsReport', () => {
  describe('when an executor says it revoked a two-hour grant', () => {
    const g = grant({ ...window2h, warrantId: 'wrt_1', targets: ['eu'] });
    const report = (
      fulfilments: Parameters<typeof exceptionsReport>[1],
      observations: Parameters<typeof exceptionsReport>[2],
    ) => exceptionsReport([g], fulfilments, observations, when(4 * HOUR))[0];

    it('does not settle the exception on its word alone', () => {
      const e = report([applied('wrt_1', 'eu'), revoked('wrt_1', 'eu')], []);
      expect(e?.status).toBe('expired_not_revoked');
      expect(e?.targets[0]).toMatchObject({ revoked: true, observedGone: false });
    });

    it('does not settle it on an observation of absence made before the window ended', () => {
      const e = report(
        [applied('wrt_1', 'eu'), revoked('wrt_1', 'eu', HOUR)],
        [seen('o1', 'eu', HOUR + MINUTE, false)],
      );
      expect(e?.status).toBe('expired_not_revoked');
    });

    it('settles it once an observation after the window shows the grant gone', () => {
      const e = report(
        [applied('wrt_1', 'eu'), revoked('wrt_1', 'eu', HOUR)],
        [seen('o1', 'eu', 2 * HOUR + MINUTE, false)],
      );
      expect(e?.status).toBe('revoked');
      expect(e?.targets[0]).toMatchObject({ observedGone: true, late: false });
      expect(e?.lateRevocation).toBe(false);
    });

    it('flags a revocation reported after the window as late', () => {
      const e = report(
        [applied('wrt_1', 'eu'), revoked('wrt_1', 'eu', 3 * HOUR)],
        [seen('o1', 'eu', 3 * HOUR + MINUTE, false)],
      );
      expect(e?.status).toBe('revoked');
      expect(e?.targets[0]).toMatchObject({ late: true, revocationReportedAt: iso(3 * HOUR) });
      expect(e?.lateRevocation).toBe(true);
    });

    it('does not flag a revocation that follows an early warrant revocation within the window', () => {
      const early = grant({ ...g, revokedAt: iso(HOUR) });
      const [e] = exceptionsReport(
        [early],
        [applied('wrt_1', 'eu'), revoked('wrt_1', 'eu', HOUR + 15_000)],
        [seen('o1', 'eu', HOUR + 20_000, false)],
        when(4 * HOUR),
      );
      expect(e?.status).toBe('revoked');
      expect(e?.targets[0]).toMatchObject({ late: false, observedGone: true });
      expect(e?.lateRevocation).toBe(false);
    });

    it('does not settle it while another table of the grant was last seen before the end', () => {
      const two = grant({
        ...g,
        scope: [
          { resource: 'db/orders', permissions: ['read'] },
          { resource: 'db/invoices', permissions: ['read'] },
        ],
      });
      const e = exceptionsReport(
        [two],
        [applied('wrt_1', 'eu'), revoked('wrt_1', 'eu', HOUR)],
        [
          observation('o1', AGENT, 'eu', HOUR, held('db/invoices', 'read')),
          seen('o2', 'eu', 2 * HOUR + MINUTE, false),
        ],
        when(4 * HOUR),
      )[0];
      expect(e?.status).toBe('expired_not_revoked');
      expect(e?.targets[0]?.evidence.observations).toEqual(['o2', 'o1']);
    });
  });
});
