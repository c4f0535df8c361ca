import { describe, expect, it } from 'vitest';
import type { RequestId } from '../../../src/core/ids.js';
import type { UseSpend } from '../../../src/service/ports/spend.js';
import { SpendQueue, type SpendOutcome } from '../../../src/store/postgres/spend-queue.js';
import { spendOf } from '../../helpers/spends.js';

/** A sender that records each batch and answers it only when told to. */
function held() {
  const batches: UseSpend[][] = [];
  const answers: ((outcomes: SpendOutcome[] | Error) => void)[] = [];
  const send = (spends: readonly UseSpend[]) =>
    new Promise<SpendOutcome[]>((ok, fail) => {
      batches.push([...spends]);
      answers.push((a) => (a instanceof Error ? fail(a) : ok(a)));
    });
  /** Answers batch `i` with a use per spend, numbered from `from`. */
  const answer = async (i: number, from = 1) => {
    answers[i]?.(
      (batches[i] ?? []).map((_, k) => ({ spent: { use: from + k, eventId: 100 + k } })),
    );
    await new Promise((r) => setImmediate(r));
  };
  return { batches, answers, send, answer };
}

const names = (batch: readonly UseSpend[] | undefined) => (batch ?? []).map((s) => s.at);
const at = (name: string, wid = 'wrt_a', over: Partial<UseSpend> = {}) =>
  spendOf(wid, 5, { at: name, ...over });

describe('SpendQueue', () => {
  it('sends a lone spend at once', () => {
    const h = held();
    void new SpendQueue(h.send, 64).spend(at('a'));
    expect(h.batches.map(names)).toEqual([['a']]);
  });

  it('gathers what arrives while a batch runs into the next one, and answers each spend', async () => {
    const h = held();
    const q = new SpendQueue(h.send, 64);
    const first = q.spend(at('a'));
    const rest = ['b', 'c', 'd'].map((n) => q.spend(at(n)));
    expect(h.batches).toHaveLength(1);
    await h.answer(0);
    expect(h.batches.map(names)).toEqual([['a'], ['b', 'c', 'd']]);
    await h.answer(1, 2);
    expect(await first).toEqual({ use: 1, eventId: 100 });
    expect((await Promise.all(rest)).map((s) => s?.use)).toEqual([2, 3, 4]);
  });

  it('keeps to its batch size', async () => {
    const h = held();
    const q = new SpendQueue(h.send, 2);
    for (const n of ['a', 'b', 'c', 'd']) void q.spend(at(n));
    await h.answer(0);
    await h.answer(1);
    expect(h.batches.map(names)).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  it('holds back a spend of the same warrant that names another request or max_uses', async () => {
    const h = held();
    const q = new SpendQueue(h.send, 64);
    const other = ('sha256:' + 'e'.repeat(64)) as RequestId;
    void q.spend(at('a'));
    void q.spend(at('b'));
    void q.spend(at('c', 'wrt_a', { requestId: other }));
    void q.spend(at('d', 'wrt_a', { signedMaxUses: 9 }));
    void q.spend(at('e', 'wrt_b'));
    void q.spend(at('f'));
    await h.answer(0);
    await h.answer(1);
    await h.answer(2);
    expect(h.batches.map(names)).toEqual([['a'], ['b', 'e', 'f'], ['c'], ['d']]);
  });

  it('rejects every spend of a failed batch and goes on with the next', async () => {
    const h = held();
    const q = new SpendQueue(h.send, 64);
    void q.spend(at('a'));
    const failed = [q.spend(at('b')), q.spend(at('c'))];
    await h.answer(0);
    const later = q.spend(at('d'));
    h.answers[1]?.(new Error('connection lost'));
    for (const f of failed) await expect(f).rejects.toThrow('connection lost');
    await new Promise((r) => setImmediate(r));
    expect(h.batches.map(names)).toEqual([['a'], ['b', 'c'], ['d']]);
    await h.answer(2);
    expect((await later)?.use).toBe(1);
  });

  it('gives each spend of a batch its own outcome: a use, none left, or its own error', async () => {
    const h = held();
    const q = new SpendQueue(h.send, 64);
    void q.spend(at('a'));
    const [b, c, d] = ['b', 'c', 'd'].map((n) => q.spend(at(n)));
    await h.answer(0);
    h.answers[1]?.([
      { spent: { use: 7, eventId: 1 } },
      { spent: null },
      { error: new Error('lock timeout') },
    ]);
    expect(await b).toEqual({ use: 7, eventId: 1 });
    expect(await c).toBeNull();
    await expect(d).rejects.toThrow('lock timeout');
  });
});
