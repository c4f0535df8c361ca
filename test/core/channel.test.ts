import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/core/channel.js';

async function drain<T>(c: Channel<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of c) out.push(item);
  return out;
}

describe('a channel', () => {
  it('hands every item over in the order pushed, then ends', async () => {
    const c = new Channel<number>();
    const got = drain(c);
    for (let i = 0; i < 3000; i += 1) {
      c.push(i);
      if (i % 700 === 0) await Promise.resolve();
    }
    c.end();
    expect(await got).toEqual(Array.from({ length: 3000 }, (_, i) => i));
  });

  it('wakes a consumer that waits for the next item', async () => {
    const c = new Channel<string>();
    const it = c[Symbol.asyncIterator]();
    const next = it.next();
    setTimeout(() => c.push('later'), 5);
    expect(await next).toEqual({ done: false, value: 'later' });
    c.end();
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('gives the items pushed before a failure, then the failure', async () => {
    const c = new Channel<number>();
    c.push(1);
    c.push(2);
    c.fail(new Error('planner died'));
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const n of c) seen.push(n);
      })(),
    ).rejects.toThrow('planner died');
    expect(seen).toEqual([1, 2]);
  });

  it('refuses an item after it was closed, and keeps the first way it was closed', async () => {
    const c = new Channel<number>();
    c.end();
    c.fail(new Error('too late'));
    expect(() => c.push(1)).toThrow('closed');
    expect(await drain(c)).toEqual([]);
  });
});
