import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { WebhookDispatcher } from '../../src/server/webhook-dispatcher.js';
import { enqueueWebhook, type WebhookTarget } from '../../src/service/webhooks.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';

/** A receiver that answers 200 a little later, so two senders' attempts overlap. */
let receiver: Server;
let received = 0;
let target: WebhookTarget;
beforeAll(async () => {
  receiver = createServer((req, res) => {
    received += 1;
    req.resume();
    req.on('end', () => setTimeout(() => res.writeHead(200).end(), 50));
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  const { port } = receiver.address() as AddressInfo;
  target = {
    url: `http://127.0.0.1:${port}/hook`,
    secret: 's3cret-for-hmac',
    events: ['finding.raised'],
  };
});
afterAll(() => new Promise<void>((ok) => receiver.close(() => ok())));

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(`webhook dispatch on ${dialect.name}`, () => {
    const storeOf = storePerTest(dialect);

    describe('when two nodes dispatch the same due delivery at once', () => {
      it('sends it once, and it stays delivered', async () => {
        const store = storeOf();
        const clock = new ManualClock('2026-03-01T12:00:00.000Z');
        await store.transaction((tx) =>
          enqueueWebhook(tx, [target], 'finding.raised', clock.now(), { finding: { id: 'fnd_1' } }),
        );
        received = 0;
        const node = () => new WebhookDispatcher(store, clock, [target], undefined);
        await Promise.all([node().deliverDue(), node().deliverDue()]);
        await sleep(100);
        expect(received).toBe(1);
        expect(await store.read.webhooks.list('delivered', 10)).toHaveLength(1);
        expect(await store.read.webhooks.list('pending', 10)).toHaveLength(0);
      });
    });
  });
}
