import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  DEFAULT_RETRY,
  isConnectionLoss,
  mayRetry,
  retryVerdict,
} from '../../../src/store/postgres/retry.js';

const pgError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });

describe('retryVerdict', () => {
  describe('when PostgreSQL rolled the transaction back itself', () => {
    it('retries serialization failures and deadlocks, even during COMMIT', () => {
      for (const code of ['40001', '40P01']) {
        expect(retryVerdict(pgError(code), false)).toBe('retry');
        expect(retryVerdict(pgError(code), true)).toBe('retry');
      }
    });
  });

  describe('when the connection is lost', () => {
    it('retries before COMMIT was sent and surfaces during COMMIT, whose outcome is unknown', () => {
      const losses = [
        pgError('ECONNRESET'),
        pgError('08006'),
        pgError('57P01'),
        new Error('Connection terminated unexpectedly'),
        new Error('timeout exceeded when trying to connect'),
      ];
      for (const e of losses) {
        expect(isConnectionLoss(e)).toBe(true);
        expect(retryVerdict(e, false)).toBe('retry');
        expect(retryVerdict(e, true)).toBe('surface');
      }
    });
  });

  describe('when a unique key was taken by a concurrent writer', () => {
    it('reruns a bounded number of times, so the check-then-insert sees the winner', () => {
      const e = pgError('23505');
      expect(mayRetry(DEFAULT_RETRY, e, false, 1)).toBe(true);
      expect(mayRetry(DEFAULT_RETRY, e, false, DEFAULT_RETRY.uniqueAttempts)).toBe(false);
    });
  });

  describe('when the failure is anything else', () => {
    it('surfaces domain errors, constraint checks and syntax errors at once', () => {
      for (const e of [new Error('boom'), pgError('23514'), pgError('42601'), 'text', null]) {
        expect(retryVerdict(e, false)).toBe('surface');
      }
    });
  });

  it('backs off with full jitter under a cap', () => {
    expect(backoffMs(DEFAULT_RETRY, 1, () => 0.999)).toBeLessThan(DEFAULT_RETRY.baseDelayMs);
    expect(backoffMs(DEFAULT_RETRY, 30, () => 0.999)).toBeLessThan(DEFAULT_RETRY.maxDelayMs);
    expect(mayRetry(DEFAULT_RETRY, pgError('40001'), false, DEFAULT_RETRY.attempts)).toBe(false);
  });
});
