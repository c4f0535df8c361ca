import { describe, expect, it } from 'vitest';
import { createRequest } from '../helpers/chain.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

/** A pending request past its deadline has ended by expiring, whoever acts on it next. */
describeOnEveryStore('a request left pending past its deadline', (store) => {
  let s: TestServer;
  serveDuringSuite(store, (started) => (s = started));

  const endsOf = async (id: string) => {
    const r = await s.http('GET', `/v1/requests/${id}/evidence`, { as: 'audra' });
    expect(r.status, r.text).toBe(200);
    return (r.body.entries as Array<{ leaf: string }>)
      .map((e) => (JSON.parse(e.leaf) as { type: string }).type)
      .filter((t) => t === 'request.expired' || t === 'request.withdrawn');
  };

  describe.each([
    [
      'withdrawn by its requester',
      (id: string) =>
        s.http('POST', `/v1/requests/${id}/withdrawal`, { as: 'alice', body: { reason: 'late' } }),
    ],
    [
      'approved',
      (id: string) =>
        s.http('POST', `/v1/requests/${id}/decisions`, {
          as: 'bob',
          body: { decision: 'approve', reason: 'ok' },
        }),
    ],
  ])('when it is %s', (_what, act) => {
    it('is refused with REQUEST_EXPIRED, and its end in the log is its expiry', async () => {
      const id = await createRequest(s);
      await s.advanceClock('25h');
      const r = await act(id);
      expect([r.status, r.body.code], r.text).toEqual([409, 'REQUEST_EXPIRED']);
      const shown = await s.http('GET', `/v1/requests/${id}`, { as: 'audra' });
      expect(shown.body.state).toBe('expired');
      expect(await endsOf(id)).toEqual(['request.expired']);
      // And a second attempt changes nothing.
      expect((await act(id)).status).toBe(409);
      expect(await endsOf(id)).toEqual(['request.expired']);
    });
  });
});
