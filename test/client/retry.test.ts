import { describe, expect, it } from 'vitest';
import { CountersignApiError, CountersignClientError } from '../../src/client/index.js';
import { retryDelay, retryPolicy } from '../../src/client/retry.js';
import { retryAfterMs } from '../../src/core/http-read.js';

const policy = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 });
const api = (status: number, retryAfter?: number) =>
  new CountersignApiError(status, 'X', 'X', 'x', retryAfter);

describe('retryDelay', () => {
  describe('when the failure is transient', () => {
    it('draws below a ceiling that doubles per attempt up to the maximum (full jitter)', () => {
      const top = () => 0.999_999;
      const ceilings = [0, 1, 2, 3, 4, 5].map((i) => retryDelay(policy, i, api(503), top));
      expect(ceilings).toEqual([99, 199, 399, 799, 999, 999]);
      expect(retryDelay(policy, 3, api(502), () => 0)).toBe(0);
    });

    it('treats no connection and a timeout as transient', () => {
      for (const code of ['UNREACHABLE', 'TIMEOUT'] as const) {
        expect(retryDelay(policy, 0, new CountersignClientError(code, 'x'), () => 0.5)).toBe(50);
      }
    });

    it('waits what Retry-After asked, up to a minute', () => {
      expect(retryDelay(policy, 0, api(429, 3000))).toBe(3000);
      expect(retryDelay(policy, 0, api(503, 60_001))).toBeNull();
    });
  });

  describe('when the failure is an answer', () => {
    it('does not retry other statuses, a bad response, or a thrown bug', () => {
      for (const s of [400, 401, 403, 404, 408, 409, 413, 422, 500, 501]) {
        expect(retryDelay(policy, 0, api(s))).toBeNull();
      }
      expect(retryDelay(policy, 0, new CountersignClientError('BAD_RESPONSE', 'x'))).toBeNull();
      expect(retryDelay(policy, 0, new TypeError('bug'))).toBeNull();
    });
  });
});

describe('retryAfterMs', () => {
  describe('when the header holds seconds or a date', () => {
    it('reads both, a past date as no wait', () => {
      const now = Date.parse('2026-03-01T12:00:00Z');
      expect(retryAfterMs('5', now)).toBe(5000);
      expect(retryAfterMs('Sun, 01 Mar 2026 12:00:07 GMT', now)).toBe(7000);
      expect(retryAfterMs('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
    });
  });

  describe('when the header is absent or garbled', () => {
    it('reads nothing', () => {
      expect(retryAfterMs(null)).toBeUndefined();
      expect(retryAfterMs('soon')).toBeUndefined();
      expect(retryAfterMs('-3')).toBeUndefined();
    });
  });
});
