import { describe, expect, it } from 'vitest';
import { ManualClock, epochSeconds } from '../../src/core/clock.js';
import {
  MemoryReplayGuard,
  REPLAY_RETENTION_LEEWAY_SECONDS,
  SharedReplayGuard,
  consumeToken,
} from '../../src/identity/oidc/replay.js';
import { expectRefused } from '../helpers/federation.js';

const clock = () => new ManualClock('2026-03-01T12:00:00Z');
/** A memory guard on a fresh clock, and an exp `ttl` seconds from that clock's now. */
const memoryGuard = (ttl: number, maxEntries?: number) => {
  const c = clock();
  const g = new MemoryReplayGuard(
    maxEntries === undefined ? { clock: c } : { clock: c, maxEntries },
  );
  return { c, g, exp: epochSeconds(c.now()) + ttl };
};
const identity = (jti: string | null, exp: number, issuer = 'https://i.example') => ({
  issuer,
  issuerName: 'i',
  jti,
  tokenDigest: 'sha256:ab' as const,
  exp,
});

describe('MemoryReplayGuard', () => {
  describe('when a jti comes back', () => {
    it('answers false the first time and true after', async () => {
      const { g, exp } = memoryGuard(300);
      expect(await g.seen('iss', 'j1', exp)).toBe(false);
      expect(await g.seen('iss', 'j1', exp)).toBe(true);
    });

    it('keeps issuers apart', async () => {
      const { g, exp } = memoryGuard(300);
      expect(await g.seen('a', 'j', exp)).toBe(false);
      expect(await g.seen('b', 'j', exp)).toBe(false);
    });

    it('remembers a token past its exp for the retention leeway, then forgets it', async () => {
      const { c, g, exp } = memoryGuard(60);
      await g.seen('iss', 'j', exp);
      c.advance((60 + REPLAY_RETENTION_LEEWAY_SECONDS) * 1000);
      expect(await g.seen('iss', 'j', exp)).toBe(true);
      c.advance(1000);
      expect(await g.seen('iss', 'j', exp)).toBe(false);
    });
  });

  describe('when the guard is full', () => {
    it('evicts expired entries first', async () => {
      const c = clock();
      const g = new MemoryReplayGuard({ clock: c, maxEntries: 2 });
      const t = epochSeconds(c.now());
      await g.seen('iss', 'a', t + 10);
      await g.seen('iss', 'b', t + 10_000);
      c.advance((10 + REPLAY_RETENTION_LEEWAY_SECONDS + 1) * 1000);
      expect(await g.seen('iss', 'c', t + 10_000)).toBe(false);
      expect(g.size).toBe(2);
      expect(await g.seen('iss', 'b', t + 10_000)).toBe(true);
    });

    it('refuses rather than forget a live entry', async () => {
      const { g, exp } = memoryGuard(300, 2);
      await g.seen('iss', 'a', exp);
      await g.seen('iss', 'b', exp);
      await expectRefused(g.seen('iss', 'c', exp), 'REPLAY_CACHE_FULL');
      expect(await g.seen('iss', 'a', exp)).toBe(true);
    });
  });
});

describe('SharedReplayGuard', () => {
  const recording = (spent: boolean) => {
    const calls: unknown[][] = [];
    return {
      calls,
      records: {
        spendToken: (...args: [string, string, number, number]) => {
          calls.push(['spend', ...args]);
          return Promise.resolve(spent);
        },
        forgetSpentTokens: (before: number) => {
          calls.push(['forget', before]);
          return Promise.resolve(2);
        },
      },
    };
  };

  it('keeps a token until its exp plus the leeway, as the memory guard does', async () => {
    const c = clock();
    const now = epochSeconds(c.now());
    const r = recording(true);
    expect(await new SharedReplayGuard(r.records, c).seen('iss', 'j1', now + 60)).toBe(false);
    expect(r.calls).toEqual([
      ['spend', 'iss', 'j1', now + 60 + REPLAY_RETENTION_LEEWAY_SECONDS, now],
    ]);
  });

  it('answers seen when the records hold the token already', async () => {
    const c = clock();
    const g = new SharedReplayGuard(recording(false).records, c);
    expect(await g.seen('iss', 'j1', epochSeconds(c.now()) + 60)).toBe(true);
  });

  it('prunes the records that expired before now', async () => {
    const c = clock();
    const r = recording(true);
    expect(await new SharedReplayGuard(r.records, c).prune()).toBe(2);
    expect(r.calls).toEqual([['forget', epochSeconds(c.now())]]);
  });
});

describe('consumeToken', () => {
  it('lets exactly one of two concurrent redemptions of a token through', async () => {
    const { g, exp } = memoryGuard(300);
    const id = identity('j', exp);
    const results = await Promise.allSettled([consumeToken(g, id), consumeToken(g, id)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('refuses a token without jti unless told otherwise', async () => {
    const { g, exp } = memoryGuard(300);
    const id = identity(null, exp);
    const err = await expectRefused(consumeToken(g, id), 'TOKEN_CLAIM_INVALID');
    expect(err.details).toMatchObject({ claim: 'jti', reason: 'missing' });
    await consumeToken(g, id, { requireJti: false });
    await expectRefused(consumeToken(g, id, { requireJti: false }), 'TOKEN_REPLAYED');
  });

  it('never confuses a jti with the digest of a jti-less token', async () => {
    const { g, exp } = memoryGuard(300);
    await consumeToken(g, identity(null, exp), { requireJti: false });
    await expect(consumeToken(g, identity('sha256:ab', exp))).resolves.toBeUndefined();
  });
});
