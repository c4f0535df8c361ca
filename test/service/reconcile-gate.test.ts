import { describe, expect, it } from 'vitest';
import { PassGate, type PassRequest } from '../../src/service/reconcile-gate.js';

/** A pass that ends when the test says so, numbered in the order passes started. */
function passes() {
  const started: { n: number; full: boolean; end: (ok: boolean) => void }[] = [];
  const gate = new PassGate<number>(
    (request: PassRequest) =>
      new Promise<number>((resolve, reject) => {
        const n = started.length + 1;
        started.push({
          n,
          full: request.full === true,
          end: (ok) => (ok ? resolve(n) : reject(new Error(`pass ${n} failed`))),
        });
      }),
  );
  const pass = (n: number) => {
    const p = started[n - 1];
    if (p === undefined) throw new Error(`pass ${n} never started`);
    return p;
  };
  return { gate, started, pass };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('one reconciliation pass at a time on a node', () => {
  it('starts a pass at once when none runs', async () => {
    const { gate, started, pass } = passes();
    const first = gate.run({ full: true });
    expect(started).toHaveLength(1);
    expect(pass(1).full).toBe(true);
    pass(1).end(true);
    expect(await first).toBe(1);
    const second = gate.run();
    expect(started).toHaveLength(2);
    pass(2).end(true);
    expect(await second).toBe(2);
  });

  it('answers a call made during a pass with the next pass, started only when it ends', async () => {
    const { gate, started, pass } = passes();
    const first = gate.run();
    const second = gate.run();
    await settle();
    expect(started).toHaveLength(1);
    pass(1).end(true);
    expect(await first).toBe(1);
    await settle();
    expect(started).toHaveLength(2);
    pass(2).end(true);
    expect(await second).toBe(2);
  });

  it('gives every call made during one pass the same next pass, whole if any asked', async () => {
    const { gate, started, pass } = passes();
    void gate.run();
    const calls = [gate.run(), gate.run({ full: true }), gate.run()];
    pass(1).end(true);
    await settle();
    expect(started).toHaveLength(2);
    expect(pass(2).full).toBe(true);
    // A call made while that next pass runs waits for a third.
    const later = gate.run();
    pass(2).end(true);
    expect(await Promise.all(calls)).toEqual([2, 2, 2]);
    await settle();
    pass(3).end(true);
    expect(await later).toBe(3);
    expect(started).toHaveLength(3);
  });

  it('lets no call start a pass beside the queued one in the moment between two passes', async () => {
    const { gate, started, pass } = passes();
    const first = gate.run();
    // This caller asks again as soon as the first pass ends, before the queued one starts.
    const again = first.then(() => gate.run());
    const queued = gate.run();
    pass(1).end(true);
    await first;
    await settle();
    expect(started).toHaveLength(2);
    pass(2).end(true);
    expect(await Promise.all([queued, again])).toEqual([2, 2]);
  });

  it('runs the next pass after one that failed, and gives each caller its own pass’s outcome', async () => {
    const { gate, pass } = passes();
    const first = gate.run();
    const second = gate.run();
    pass(1).end(false);
    await expect(first).rejects.toThrow('pass 1 failed');
    await settle();
    pass(2).end(true);
    expect(await second).toBe(2);
    const third = gate.run();
    pass(3).end(false);
    await expect(third).rejects.toThrow('pass 3 failed');
  });
});
