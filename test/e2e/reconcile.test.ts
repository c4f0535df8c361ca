import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { issueWarrant, rotateAction, stagingAction, uniqueNhi } from '../helpers/chain.js';
import { fp, fulfil, fulfilOk, receiptFor } from '../helpers/fulfilment.js';
import { grantFact, later, observe, secretVersion, sightings } from '../helpers/observation.js';
import { findingsOf, issueRotation, reconcileNow, subjectOf } from '../helpers/reconcile.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { parseExposition, total } from '../helpers/metrics.js';
import { runCli, type TestServer } from '../helpers/server.js';

/** A warrant this server issued, with one character of its signature changed. */
async function forgedWarrant(s: TestServer): Promise<string> {
  const { token } = await issueWarrant(s, {});
  const [head, body, sig] = token.split('.') as [string, string, string];
  return `${head}.${body}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`;
}

describeOnEveryStore('reconciliation against a real server', (store) => {
  // A server per test: each one moves its clock past the warrants' windows.
  let s: TestServer;
  afterEach(async () => {
    await s?.stop();
  });

  describe('when a rotation approved for three clusters is deployed to two', () => {
    it('flags the third as UNFULFILLED_TARGET, then a false claim as FULFILMENT_MISMATCH', async () => {
      s = await store.start();
      const { token, requestId, subject } = await issueRotation(s, 'payments', ['eu', 'us', 'ap']);
      const OLD = secretVersion(fp('v1'));
      const F = fp('v2');
      const t0 = await later(s);
      expect((await observe(s, sightings(subject, ['eu', 'us', 'ap'], OLD, t0))).status).toBe(200);
      const action = (target: string) => rotateAction('payments', target);
      const receipts = {
        eu: await receiptFor(s, token, action('eu')),
        us: await receiptFor(s, token, action('us')),
        ap: await receiptFor(s, token, action('ap')),
      };
      for (const target of ['eu', 'us'] as const) {
        await fulfilOk(s, {
          receipt: receipts[target],
          target,
          outcome: 'success',
          fingerprint: F,
        });
      }
      const t1 = await later(s);
      await observe(s, [
        ...sightings(subject, ['eu', 'us'], secretVersion(F), t1),
        ...sightings(subject, ['ap'], OLD, t1),
      ]);

      await s.advanceClock('2h1m');
      await reconcileNow(s);
      const first = await findingsOf(s, subject);
      expect(first.map((f) => [f.kind, f.target, f.state])).toEqual([
        ['UNFULFILLED_TARGET', 'ap', 'open'],
      ]);
      expect(first[0]!.requestId).toBe(requestId);
      // Its proof: the warrant.issued event and the redemption made for ap.
      expect(first[0]!.evidence.warrants).toHaveLength(1);
      expect(first[0]!.evidence.redemptions).toHaveLength(1);

      // The ap executor now claims F while collectors still see the old version.
      await fulfilOk(s, { receipt: receipts.ap, target: 'ap', outcome: 'success', fingerprint: F });
      await observe(s, sightings(subject, ['ap'], OLD, await later(s)));
      await reconcileNow(s);
      const second = await findingsOf(s, subject);
      const mismatch = second.find((f) => f.kind === 'FULFILMENT_MISMATCH');
      expect(mismatch).toMatchObject({ target: 'ap', state: 'open' });
      expect(mismatch!.logIndices.length).toBeGreaterThan(0);
      // Running again raises nothing twice.
      expect((await reconcileNow(s)).raised).toBe(0);
      const cli = await s.cli(['--json', 'findings', '--state', 'open'], 'audra');
      expect(
        JSON.parse(cli.stdout).findings.some((f: { id: string }) => f.id === mismatch!.id),
      ).toBe(true);
    });
  });

  describe('when passes follow one another', () => {
    it('plans only the subjects that changed or whose window was open, unless asked for every one', async () => {
      s = await store.start();
      const { token, subject } = await issueRotation(s, 'ledger', ['eu'], { duration: '30m' });
      const receipt = await receiptFor(s, token, rotateAction('ledger', 'eu'));
      const pass = async (query = '') => {
        const r = await s.http('POST', `/v1/reconcile${query}`, { as: 'admin' });
        expect(r.status).toBe(200);
        return r.body as { full: boolean; planned: number; raised: number; resolved: number };
      };
      expect(await pass()).toMatchObject({ full: true, raised: 0 });
      // The rotation's window is still open: its subject is planned again, and only it.
      expect(await pass()).toMatchObject({ full: false, planned: 1, raised: 0 });
      await s.advanceClock('31m');
      // Its window ended since the last pass, with nothing logged meanwhile.
      expect(await pass()).toMatchObject({ full: false, planned: 1, raised: 1 });
      expect((await findingsOf(s, subject)).map((f) => f.kind)).toEqual(['UNFULFILLED_TARGET']);
      // Judged once more for the finding just raised, then left alone.
      expect(await pass()).toMatchObject({ full: false, planned: 1, raised: 0 });
      expect(await pass()).toMatchObject({ full: false, planned: 0 });
      // A collector's sighting, then the executor's late report: each makes it planned again.
      const seen = secretVersion(fp('v1'));
      expect((await observe(s, sightings(subject, ['eu'], seen, await later(s)))).status).toBe(200);
      expect(await pass()).toMatchObject({ full: false, planned: 1 });
      await fulfilOk(s, { receipt, target: 'eu', outcome: 'success', fingerprint: fp('v2') });
      expect(await pass()).toMatchObject({ full: false, planned: 1, resolved: 1 });
      const cli = await s.cli(['reconcile', '--now', '--full'], 'admin');
      expect(cli.stdout).toMatch(
        /^raised \d+, reopened 0, resolved \d+, expiries recorded 0 \(every subject: \d+\)/,
      );
      const bad = await s.http('POST', '/v1/reconcile?full=maybe', { as: 'admin' });
      expect(bad.status).toBe(400);
    });
  });

  describe('when passes are asked for at once', () => {
    it('runs one at a time: calls made during a pass share the next, planned whole if one asked', async () => {
      // No scheduled pass during the test: only the calls below run passes.
      s = await store.start({ config: { reconcileInterval: '1h' } });
      await issueRotation(s, 'ledger', ['eu'], { duration: '30m' });
      const passesRun = async () =>
        total(
          parseExposition((await s.http('GET', '/metrics', { as: 'admin' })).text),
          'countersign_reconcile_duration_seconds_count',
          { outcome: 'ok' },
        );
      // A first pass, so that the next ones plan only what changed unless asked otherwise.
      expect((await s.http('POST', '/v1/reconcile', { as: 'admin' })).status).toBe(200);
      const before = await passesRun();
      const queries = ['', '', '?full=true', ''];
      const answers = await Promise.all(
        queries.map(async (query) => {
          const r = await s.http('POST', `/v1/reconcile${query}`, { as: 'admin' });
          expect(r.status).toBe(200);
          return JSON.stringify(r.body);
        }),
      );
      // Whichever call arrived first ran a pass alone; those made meanwhile shared the next
      // (all three of them, unless one came after that pass had ended too): each pass run
      // gave one answer, and fewer passes ran than were asked for.
      const passes = [...new Set(answers)];
      expect(await passesRun()).toBe(before + passes.length);
      expect(passes.length).toBeLessThan(queries.length);
      const full = answers[queries.indexOf('?full=true')] as string;
      for (const a of passes) expect((JSON.parse(a) as { full: boolean }).full).toBe(a === full);
    });
  });

  describe('when an agent keeps a two-table grant after its window', () => {
    it('raises EXPIRED_NOT_REVOKED, resolves it once the revocation is observed, reopens it when the grant is back', async () => {
      s = await store.start();
      const { token, requestId } = await issueWarrant(s, {
        scope: [
          { resource: 'db/orders', permissions: ['read'] },
          { resource: 'db/invoices', permissions: ['read'] },
        ],
        targets: ['pg-eu'],
        duration: '2h',
      });
      const subject = await subjectOf(s, requestId);
      const receipt = await receiptFor(s, token, stagingAction('pg-eu'));
      const applied = fp('grant-applied');
      await fulfilOk(s, { receipt, target: 'pg-eu', outcome: 'success', fingerprint: applied });
      const grant = (present: boolean, observedAt: string) =>
        sightings(subject, ['pg-eu'], grantFact('db/orders', 'read', present), observedAt);
      await observe(s, grant(true, await later(s)));

      await observe(s, grant(true, await later(s, '2h1m')));
      await reconcileNow(s);
      const open = await findingsOf(s, subject);
      expect(open.map((f) => [f.kind, f.state])).toEqual([['EXPIRED_NOT_REVOKED', 'open']]);

      await fulfilOk(s, { receipt, target: 'pg-eu', outcome: 'success', phase: 'revoke' });
      await observe(s, grant(false, await later(s)));
      await reconcileNow(s);
      const done = await findingsOf(s, subject);
      expect(done).toHaveLength(1);
      expect(done[0]).toMatchObject({
        kind: 'EXPIRED_NOT_REVOKED',
        state: 'resolved',
        resolution: { automatic: true },
      });

      const report = await s.cli(['--json', 'report', 'exceptions'], 'audra');
      const mine = JSON.parse(report.stdout).exceptions.find(
        (e: { requestId: string }) => e.requestId === requestId,
      );
      expect(mine).toMatchObject({
        status: 'revoked',
        targets: [{ target: 'pg-eu', revoked: true, stillObserved: false }],
      });
      expect(mine.logIndices.length).toBeGreaterThan(0);

      // The grant comes back: the finding reconciliation resolved is opened again.
      const back = await later(s, '5m');
      await observe(s, grant(true, back));
      const pass = await reconcileNow(s);
      expect(pass).toMatchObject({ raised: 0, reopened: 1, resolved: 0 });
      const reopened = await findingsOf(s, subject);
      expect(reopened).toHaveLength(1);
      expect(reopened[0]).toMatchObject({ id: done[0]!.id, state: 'open', resolution: null });
      expect(reopened[0]!.detail).toContain('still observed present');
      // Its proof is now this presence, newer than anything the first occurrence cited.
      const cited = Math.max(...reopened[0]!.evidence.observations);
      expect(cited).toBeGreaterThan(Math.max(...open[0]!.evidence.observations));
      expect((await reconcileNow(s)).reopened).toBe(0);

      const audit = await runCli(['log', 'verify', '--database', s.databaseUrl], {});
      expect(audit.code, audit.stdout + audit.stderr).toBe(0);
      expect(audit.stdout).toContain('state OK');
      const out = await s.cli(['--json', 'evidence', 'export', requestId], 'audra');
      const dir = mkdtempSync(join(tmpdir(), 'cs-ev-'));
      writeFileSync(join(dir, 'b.json'), out.stdout);
      const verified = await s.cli(['evidence', 'verify', join(dir, 'b.json'), '--trust-embedded']);
      rmSync(dir, { recursive: true });
      expect(verified.code, verified.stdout).toBe(0);
      expect(verified.stdout).toMatch(/EXPIRED_NOT_REVOKED.*open/);
    });
  });

  describe('when a caller keeps presenting warrants the server never signed', () => {
    it('raises REDEMPTION_ABUSE against the caller', async () => {
      s = await store.start();
      const forged = await forgedWarrant(s);
      const redeem = (warrant: string) =>
        s.http('POST', '/v1/redemptions', {
          as: 'deploy-us',
          body: { warrant, action: stagingAction('pg-eu') },
        });
      for (let i = 0; i < 2; i++) expect((await redeem(forged)).status).toBe(403);
      const unreadable = await s.http('POST', '/v1/redemptions', {
        as: 'deploy-us',
        body: { warrant: forged, action: 'not an action' },
      });
      expect(unreadable.status).toBe(400);
      await reconcileNow(s);
      const found = await findingsOf(s, '');
      expect(found.map((f) => [f.kind, f.state, f.detail])).toEqual([
        [
          'REDEMPTION_ABUSE',
          'open',
          expect.stringMatching(/^deploy-us was refused 3 times presenting no warrant/),
        ],
      ]);
      expect(found[0]!.evidence.redemptions).toHaveLength(3);
      expect((await reconcileNow(s)).raised).toBe(0);

      // A person's resolution settles those three; three more are a new occurrence.
      const resolved = await s.cli(
        ['findings', 'resolve', found[0]!.id, '--reason', 'deploy-us key rotated'],
        'admin',
      );
      expect(resolved.code, resolved.stderr).toBe(0);
      for (let i = 0; i < 2; i++) expect((await redeem(forged)).status).toBe(403);
      expect((await reconcileNow(s)).raised).toBe(0);
      expect((await redeem(forged)).status).toBe(403);
      expect((await reconcileNow(s)).raised).toBe(1);
      const again = (await findingsOf(s, '')).filter((f) => f.state === 'open');
      expect(again.map((f) => f.detail)).toEqual([
        expect.stringMatching(/^deploy-us was refused 3 times since \S+ presenting no warrant/),
      ]);
      expect(again[0]!.evidence.redemptions).toHaveLength(3);
      expect(again[0]!.evidence.redemptions).not.toContain(found[0]!.evidence.redemptions[2]);
      expect((await reconcileNow(s)).raised).toBe(0);
      const audit = await runCli(['log', 'verify', '--database', s.databaseUrl], {});
      expect(audit.code, audit.stdout + audit.stderr).toBe(0);
      expect(audit.stdout).toContain('state OK');
    });
  });

  describe('when a caller floods the server with forged warrants while passes run', () => {
    it('is flagged while it keeps going, and its rows are not read again once it is', async () => {
      s = await store.start();
      const forged = await forgedWarrant(s);
      let going = true;
      let sent = 0;
      const flood = async () => {
        while (going) {
          await s.http('POST', '/v1/redemptions', {
            as: 'deploy-us',
            body: { warrant: forged, action: stagingAction('pg-eu') },
          });
          sent += 1;
        }
      };
      const floods = [flood(), flood(), flood()];
      try {
        while (sent < 20) await new Promise((r) => setTimeout(r, 50));
        // Each pass judges the denials already in the log; the newest, still queued, wait.
        let raisedAt = -1;
        for (let pass = 0; pass < 5 && raisedAt < 0; pass++) {
          if ((await reconcileNow(s)).raised > 0) raisedAt = pass;
        }
        expect(raisedAt).toBe(0);
        const before = sent;
        const later = (await s.http('POST', '/v1/reconcile', { as: 'admin' })).body as {
          scanned: number;
        };
        expect(later.scanned).toBeLessThan(before);
      } finally {
        going = false;
        await Promise.all(floods);
      }
      const found = await findingsOf(s, '');
      expect(found.map((f) => f.kind)).toEqual(['REDEMPTION_ABUSE']);
    });
  });

  describe('when a grant is observed that no warrant covers', () => {
    it('raises UNAPPROVED_CHANGE', async () => {
      s = await store.start();
      const subject = uniqueNhi('svc');
      await s.http('POST', '/v1/nhis', {
        as: 'admin',
        body: { id: subject, kind: 'service_account', owner: 'x' },
      });
      const customers = grantFact('db/customers', 'write', true);
      await observe(s, sightings(subject, ['pg-eu'], customers, new Date().toISOString()));
      await reconcileNow(s);
      expect((await findingsOf(s, subject)).map((f) => f.kind)).toEqual(['UNAPPROVED_CHANGE']);
    });
  });

  describe('the exceptions report', () => {
    it('settles an exception only once it is observed gone, and flags a late revocation', async () => {
      s = await store.start();
      const revoked = await issueWarrant(s, { targets: ['t1'], duration: '1h' });
      const kept = await issueWarrant(s, { targets: ['t1'], duration: '1h' });
      const action = stagingAction('t1');
      const r1 = await receiptFor(s, revoked.token, action);
      const r2 = await receiptFor(s, kept.token, action);
      await fulfil(s, { receipt: r1, target: 't1', outcome: 'success', fingerprint: fp('a') });
      await fulfil(s, { receipt: r2, target: 't1', outcome: 'success', fingerprint: fp('b') });
      await s.advanceClock('1h1m');
      await fulfil(s, { receipt: r1, target: 't1', outcome: 'success', phase: 'revoke' });
      type Entry = {
        requestId: string;
        status: string;
        lateRevocation: boolean;
        targets: Array<{ late: boolean; observedGone: boolean }>;
      };
      const report = async (): Promise<Map<string, Entry>> => {
        const out = await s.cli(['--json', 'report', 'exceptions'], 'audra');
        const all = JSON.parse(out.stdout).exceptions as Entry[];
        return new Map(all.map((e) => [e.requestId, e]));
      };
      // The executor's word alone does not settle it.
      const claimed = (await report()).get(revoked.requestId);
      expect(claimed).toMatchObject({
        status: 'expired_not_revoked',
        targets: [{ late: true, observedGone: false }],
      });
      const gone = grantFact('db/orders', 'read', false);
      const subject = await subjectOf(s, revoked.requestId);
      await observe(s, sightings(subject, ['t1'], gone, await later(s, '1m')));
      const byRequest = await report();
      expect(byRequest.get(revoked.requestId)).toMatchObject({
        status: 'revoked',
        lateRevocation: true,
        targets: [{ late: true, observedGone: true }],
      });
      expect(byRequest.get(kept.requestId)?.status).toBe('expired_not_revoked');
      const human = await s.cli(['report', 'exceptions'], 'audra');
      expect(human.stdout).toContain('NOT revoked');
      expect(human.stdout).toContain('revoked, LATE');
    });
  });

  describe('evidence after reconciliation', () => {
    it("holds the request's fulfilments, observations and findings, and verifies offline", async () => {
      s = await store.start();
      const { token, requestId, subject } = await issueRotation(s, 'app', ['eu', 'us']);
      const receipt = await receiptFor(s, token, rotateAction('app', 'eu'));
      await fulfil(s, { receipt, target: 'eu', outcome: 'success', fingerprint: fp('new') });
      await observe(s, sightings(subject, ['eu'], secretVersion(fp('new')), await later(s)));
      await s.advanceClock('2h1m');
      await reconcileNow(s);
      const out = await s.cli(['--json', 'evidence', 'export', requestId], 'audra');
      const bundle = JSON.parse(out.stdout);
      const types = bundle.entries.map((e: { leaf: string }) => JSON.parse(e.leaf).type);
      expect(types).toEqual(
        expect.arrayContaining([
          'fulfilment.recorded',
          'observation.recorded',
          'finding.raised',
          'warrant.expired',
        ]),
      );
      const dir = mkdtempSync(join(tmpdir(), 'cs-ev-'));
      const file = join(dir, 'b.json');
      writeFileSync(file, out.stdout);
      const verified = await s.cli(['evidence', 'verify', file, '--trust-embedded']);
      rmSync(dir, { recursive: true });
      expect(verified.code, verified.stdout).toBe(0);
      expect(verified.stdout).toContain('approved target us has no successful fulfilment');
    });
  });
});
