import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closeEvent, encodeEvent, openEvent, type LogEvent } from '../../src/log/event.js';

const event =
  (data: Record<string, unknown>) =>
  (n: number | string): LogEvent => ({
    v: 1,
    type: 'redemption.allowed',
    at: '2026-01-01T00:00:00.000Z',
    actor: 'deploy-eu',
    links: { warrant: 'wrt_1' },
    data: { ...data, receipt: { use: n, rest: data } },
  });

describe('an open event, closed with a number', () => {
  it('is byte for byte the event encoded with that number in place', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        (data, n) => {
          const open = openEvent(event(data), 'use-of-rct_0123456789abcdef');
          expect(open).not.toBeNull();
          if (open === null) return;
          expect(closeEvent(open, n)).toEqual(encodeEvent(event(data)(n)));
        },
      ),
    );
  });

  it('refuses a number that is not a safe integer', () => {
    const open = openEvent(event({}), 'use-of-x');
    expect(open).not.toBeNull();
    if (open) expect(() => closeEvent(open, 2 ** 53)).toThrow(RangeError);
  });
});
