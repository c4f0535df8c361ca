import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { WebhookDispatcher } from '../../src/server/webhook-dispatcher.js';
import {
  enqueueWebhook,
  SIGNATURE_HEADER,
  type WebhookTarget,
} from '../../src/service/webhooks.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';

const T0 = '2026-03-01T12:00:00.000Z';
const clock = new ManualClock(T0);
/** The signature header of each delivery, in the order they arrived. */
const signatures: string[] = [];
let server: Server;
let origin: string;

beforeAll(async () => {
  // A slow receiver: each delivery takes 40 s of the server's clock, more than a claim's lease.
  server = createServer((req, res) => {
    signatures.push(String(req.headers[SIGNATURE_HEADER]));
    clock.advance(40_000);
    req.resume();
    req.on('end', () => res.writeHead(500).end());
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

const sqlite = DIALECTS.find((d) => d.name === 'sqlite');
if (sqlite === undefined) throw new Error('no sqlite harness');

describe('WebhookDispatcher behind a slow receiver', () => {
  const storeOf = storePerTest(sqlite);

  it('signs, leases and schedules each delivery by the time it is made, not when the batch began', async () => {
    const store = storeOf();
    const target: WebhookTarget = {
      url: `${origin}/hook`,
      secret: 's',
      events: ['finding.raised'],
    };
    for (const id of ['fnd_1', 'fnd_2']) {
      await store.transaction((tx) =>
        enqueueWebhook(tx, [target], 'finding.raised', clock.now(), { finding: { id } }),
      );
    }
    await new WebhookDispatcher(store, clock, [target], undefined).deliverDue();
    const t0 = Date.parse(T0) / 1000;
    expect(signatures.map((s) => s.split(',')[0])).toEqual([`t=${t0}`, `t=${t0 + 40}`]);
    // Each failed attempt retries a second after it ended, not after the batch began.
    const retries = (await store.read.webhooks.list('pending', 10)).map((d) => d.nextAttemptAt);
    expect(retries.map((r) => Date.parse(r) / 1000 - t0).sort((a, b) => a - b)).toEqual([
      40 + 1,
      80 + 1,
    ]);
  });
});
