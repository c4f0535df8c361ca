import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { WebhookDispatcher } from '../../src/server/webhook-dispatcher.js';
import { enqueueWebhook, MAX_ATTEMPTS, type WebhookTarget } from '../../src/service/webhooks.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';

interface Hit {
  readonly method: string;
  readonly url: string;
}

/** A loopback HTTP server that records what reaches it and answers with `answer`. */
async function listen(answer: (res: ServerResponse) => void) {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    hits.push({ method: req.method ?? '', url: req.url ?? '' });
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return { hits, server, origin: `http://127.0.0.1:${port}` };
}

/** Another origin, standing in for a metadata service; the query is what it must not get. */
let elsewhere: Awaited<ReturnType<typeof listen>>;
/** The configured endpoint, answering every delivery with a redirect to `elsewhere`. */
let endpoint: Awaited<ReturnType<typeof listen>>;
let status = 307;
const LEAK = 'token-in-the-location';

beforeAll(async () => {
  elsewhere = await listen((res) => res.writeHead(200).end());
  endpoint = await listen((res) =>
    res.writeHead(status, { location: `${elsewhere.origin}/latest/meta-data/?t=${LEAK}` }).end(),
  );
});
afterAll(async () => {
  for (const s of [endpoint.server, elsewhere.server]) {
    await new Promise<void>((ok) => s.close(() => ok()));
  }
});

const sqlite = DIALECTS.find((d) => d.name === 'sqlite');
if (sqlite === undefined) throw new Error('no sqlite harness');

describe('WebhookDispatcher', () => {
  const storeOf = storePerTest(sqlite);

  const setUp = async () => {
    const store = storeOf();
    const clock = new ManualClock('2026-03-01T12:00:00.000Z');
    const target: WebhookTarget = {
      url: `${endpoint.origin}/hook`,
      secret: 'hmac-secret-for-redirect-tests',
      events: ['finding.raised'],
    };
    await store.transaction((tx) =>
      enqueueWebhook(tx, [target], 'finding.raised', clock.now(), { finding: { id: 'fnd_1' } }),
    );
    return { store, clock, dispatcher: new WebhookDispatcher(store, clock, [target], undefined) };
  };

  describe.each([301, 302, 303, 307, 308])('when the endpoint answers %i with a Location', (s) => {
    it('sends nothing to the Location and records a failed attempt that does not quote it', async () => {
      status = s;
      const before = { endpoint: endpoint.hits.length, elsewhere: elsewhere.hits.length };
      const { store, dispatcher } = await setUp();
      await dispatcher.deliverDue();

      expect(endpoint.hits.length - before.endpoint).toBe(1);
      expect(elsewhere.hits.length - before.elsewhere).toBe(0);
      expect(await store.read.webhooks.list('delivered', 10)).toHaveLength(0);
      const [pending] = await store.read.webhooks.list('pending', 10);
      expect(pending).toMatchObject({
        attempts: 1,
        lastError: `HTTP ${s}: the endpoint redirected (not followed)`,
      });
      expect(JSON.stringify(pending)).not.toContain(LEAK);
    });
  });

  describe('when the endpoint redirects on every attempt', () => {
    it('retries it like any failure, then lists it as a dead letter', async () => {
      status = 307;
      const { store, clock, dispatcher } = await setUp();
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        await dispatcher.deliverDue();
        clock.advance(600_000);
      }
      const [dead] = await store.read.webhooks.list('dead', 10);
      expect(dead).toMatchObject({
        attempts: MAX_ATTEMPTS,
        lastError: expect.stringMatching(/redirected/),
      });
      expect(await store.read.webhooks.list('delivered', 10)).toHaveLength(0);
    });
  });
});
