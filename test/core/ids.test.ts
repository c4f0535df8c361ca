import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timeOrderedId } from '../../src/core/crypto.js';
import { newReceiptId } from '../../src/core/ids.js';
import { newFindingId } from '../../src/reconcile/finding.js';

// Millisecond instants from 1970 to the year 5188, where nine base-36 digits end.
const instant = fc.integer({ min: 0, max: 36 ** 9 - 1 }).map((ms) => new Date(ms));

describe('time-ordered ids', () => {
  it('sort as text in the order of their instants, whatever their random part', () => {
    fc.assert(
      fc.property(instant, instant, (a, b) => {
        const [x, y] = [timeOrderedId('rcp', a), timeOrderedId('rcp', b)];
        if (a.getTime() < b.getTime()) expect(x < y).toBe(true);
        if (a.getTime() > b.getTime()) expect(x > y).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('have one length and a URL-safe alphabet at every instant', () => {
    fc.assert(
      fc.property(instant, (at) => {
        expect(timeOrderedId('rcp', at)).toMatch(/^rcp_[0-9a-z]{14}[A-Za-z0-9_-]{16}$/);
      }),
    );
  });

  it('made in turn at one instant, sort as text in the order they were made', () => {
    const at = new Date('2026-12-04T07:00:00.000Z');
    const ids = Array.from({ length: 10_000 }, () => newFindingId(at));
    expect([...ids].sort()).toEqual(ids);
  });

  it('made in turn at instants that alternate, keep their order within each instant', () => {
    const [a, b] = [new Date('2026-12-04T07:00:00.000Z'), new Date('2026-03-11T12:40:00.000Z')];
    const made = Array.from({ length: 1_000 }, (_, i) => timeOrderedId('x', i % 2 === 0 ? a : b));
    const ofA = made.filter((_, i) => i % 2 === 0);
    const ofB = made.filter((_, i) => i % 2 === 1);
    expect([...ofA].sort()).toEqual(ofA);
    expect([...ofB].sort()).toEqual(ofB);
  });

  it('differ within one millisecond, by 96 random bits', () => {
    const at = new Date('2026-12-04T07:00:00.000Z');
    const ids = new Set(Array.from({ length: 10_000 }, () => newReceiptId(at)));
    expect(ids.size).toBe(10_000);
    const time = at.getTime().toString(36).padStart(9, '0');
    for (const id of ids) expect(id.slice(0, 13)).toBe(`rcp_${time}`);
  });
});
