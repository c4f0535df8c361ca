import { describe, expect, it } from 'vitest';
import { pressureOf, type LoadLimits } from '../../src/http/shed.js';

const limits: LoadLimits = { maxInFlight: 4, maxEventLoopDelayMs: 100, maxHeapUsedBytes: 1000 };
const calm = { inFlight: 0, eventLoopDelayMs: 0, heapUsedBytes: 0 };

describe('pressureOf', () => {
  describe('when every measure is under its limit', () => {
    it('accepts the request', () => {
      expect(
        pressureOf({ inFlight: 3, eventLoopDelayMs: 100, heapUsedBytes: 1000 }, limits),
      ).toBeNull();
    });
  });
  describe('when a measure reaches its limit', () => {
    it('names the limit that is broken', () => {
      expect(pressureOf({ ...calm, inFlight: 4 }, limits)).toBe('in-flight');
      expect(pressureOf({ ...calm, eventLoopDelayMs: 101 }, limits)).toBe('event-loop-delay');
      expect(pressureOf({ ...calm, heapUsedBytes: 1001 }, limits)).toBe('heap');
    });
  });
  describe('when a limit is 0', () => {
    it('turns that check off', () => {
      const off: LoadLimits = { maxInFlight: 0, maxEventLoopDelayMs: 0, maxHeapUsedBytes: 0 };
      expect(
        pressureOf({ inFlight: 1e6, eventLoopDelayMs: 1e6, heapUsedBytes: 1e12 }, off),
      ).toBeNull();
    });
  });
});
