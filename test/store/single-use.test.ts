import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, epochSeconds } from '../../src/core/clock.js';
import type { NhiId, PrincipalId, ReceiptId, RequestId, WarrantId } from '../../src/core/ids.js';
import type { Fulfilment, FulfilmentId } from '../../src/fulfilment/fulfilment.js';
import { REPLAY_RETENTION_LEEWAY_SECONDS } from '../../src/identity/oidc/replay.js';
import { wireIdentity, type ServerIdentity } from '../../src/server/identity.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';

const ISSUER = 'https://token.actions.example';

let serial = 0;
const fulfilment = (outcome: Fulfilment['outcome']): Fulfilment => ({
  id: `ful_${++serial}` as FulfilmentId,
  requestId: 'req_1' as RequestId,
  warrantId: 'wrt_1' as WarrantId,
  receiptId: 'rcpt_1' as ReceiptId,
  executor: 'deploy-eu' as PrincipalId,
  subject: 'svc:a' as NhiId,
  target: 'eu',
  phase: 'apply',
  outcome,
  fingerprint: null,
  detail: null,
  at: '2026-03-01T12:00:00.000Z',
});

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(`single use on the ${dialect.name} store`, () => {
    let store: Store;
    const storeOf = storePerTest(dialect);
    let clock: ManualClock;
    let identity: ServerIdentity;
    const nowSeconds = () => epochSeconds(clock.now());

    beforeEach(() => {
      store = storeOf();
      clock = new ManualClock('2026-03-01T12:00:00Z');
      identity = wireIdentity(undefined, [], clock, store);
    });

    describe('when one token is presented many times at once', () => {
      it('lets exactly one presentation spend it', async () => {
        const guard = identity.settings.replayGuard;
        const exp = nowSeconds() + 300;
        const seen = await Promise.all(
          Array.from({ length: 40 }, () => guard.seen(ISSUER, 'jti:race', exp)),
        );
        expect(seen.filter((s) => !s)).toHaveLength(1);
        expect(await guard.seen(ISSUER, 'jti:race', exp)).toBe(true);
      });
    });

    describe('when two issuers use the same jti', () => {
      it('keeps them apart', async () => {
        const guard = identity.settings.replayGuard;
        const exp = nowSeconds() + 300;
        expect(await guard.seen(ISSUER, 'jti:same', exp)).toBe(false);
        expect(await guard.seen('https://kubernetes.example', 'jti:same', exp)).toBe(false);
        expect(await guard.seen(ISSUER, 'jti:same', exp)).toBe(true);
      });
    });

    describe('when records expire', () => {
      it('remembers a token until exp plus the leeway, and pruning deletes only expired records', async () => {
        const guard = identity.settings.replayGuard;
        const exp = nowSeconds() + 60;
        expect(await guard.seen(ISSUER, 'jti:short', exp)).toBe(false);
        expect(await guard.seen(ISSUER, 'jti:long', exp + 3600)).toBe(false);

        clock.advance((60 + REPLAY_RETENTION_LEEWAY_SECONDS) * 1000);
        expect(await identity.pruneSpentTokens()).toBe(0);
        expect(await guard.seen(ISSUER, 'jti:short', exp)).toBe(true);

        clock.advance(1000);
        expect(await identity.pruneSpentTokens()).toBe(1);
        expect(await identity.pruneSpentTokens()).toBe(0);
        expect(await guard.seen(ISSUER, 'jti:long', exp + 3600)).toBe(true);
      });

      it('takes over a record that expired but was not pruned yet', async () => {
        const guard = identity.settings.replayGuard;
        const exp = nowSeconds() + 60;
        expect(await guard.seen(ISSUER, 'jti:reused', exp)).toBe(false);
        clock.advance((61 + REPLAY_RETENTION_LEEWAY_SECONDS) * 1000);
        const later = nowSeconds() + 60;
        expect(await guard.seen(ISSUER, 'jti:reused', later)).toBe(false);
        expect(await guard.seen(ISSUER, 'jti:reused', later)).toBe(true);
      });
    });

    describe('when two successes are stored for one receipt, target and phase', () => {
      it('refuses the second insert but keeps any number of failures', async () => {
        await store.transaction(async (tx) => {
          await tx.fulfilments.insert(fulfilment('failure'), 1);
          await tx.fulfilments.insert(fulfilment('failure'), 2);
          await tx.fulfilments.insert(fulfilment('success'), 3);
        });
        await expect(
          store.transaction((tx) => tx.fulfilments.insert(fulfilment('success'), 4)),
        ).rejects.toThrow(/unique|duplicate/i);
        expect((await store.read.fulfilments.list()).map((f) => f.outcome).sort()).toEqual([
          'failure',
          'failure',
          'success',
        ]);
      });
    });
  });
}
