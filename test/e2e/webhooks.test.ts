import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, issueWarrant, stagingAction } from '../helpers/chain.js';
import { fp, fulfilOk, receiptFor } from '../helpers/fulfilment.js';
import { grantFact, later, observe, sightings } from '../helpers/observation.js';
import { reconcileNow, subjectOf } from '../helpers/reconcile.js';
import { TestServer } from '../helpers/server.js';

interface Delivery {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

const SECRET = 'whsec-test-only-0123456789';
let s: TestServer;
let receiver: Server;
let good = '';
let bad = '';
const received: Delivery[] = [];
let dir: string;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/fail') {
        res.writeHead(500).end();
        return;
      }
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  const port = (receiver.address() as { port: number }).port;
  good = `http://127.0.0.1:${port}/hook`;
  bad = `http://127.0.0.1:${port}/fail`;
  dir = mkdtempSync(join(tmpdir(), 'countersign-hooks-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `webhooks:\n  - url: ${good}\n    secretEnv: CS_HOOK_SECRET\n    events: [request.pending, finding.raised, finding.reopened]\n  - url: ${bad}\n    secretEnv: CS_HOOK_SECRET\n    events: [request.pending]\n`,
  );
  s = await TestServer.start({ extraArgs: ['--config', config], env: { CS_HOOK_SECRET: SECRET } });
});
afterAll(async () => {
  await s.stop();
  receiver.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until<T>(f: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('webhooks', () => {
  describe('when a request waits for approval', () => {
    it('delivers a signed CloudEvents 1.0 notification', async () => {
      const requestId = await createRequest(s);
      const d = await until(() => received.find((x) => x.body.includes(requestId)), 'the delivery');
      const event = JSON.parse(d.body);
      expect(event).toMatchObject({
        specversion: '1.0',
        type: 'dev.countersign.request.pending',
        source: 'urn:countersign',
        data: { requestId },
      });
      expect(d.headers['content-type']).toBe('application/cloudevents+json');
      const sig = String(d.headers['x-countersign-signature']);
      const [, t, mac] = /^t=(\d+),sha256=([0-9a-f]{64})$/.exec(sig) ?? [];
      expect(mac).toBe(createHmac('sha256', SECRET).update(`${t}.${d.body}`).digest('hex'));
      expect(s.logs()).not.toContain(SECRET);
    });
  });

  describe('when an endpoint keeps failing', () => {
    it('retries with backoff, then lists the delivery as a dead letter', async () => {
      await createRequest(s);
      const dead = await (async () => {
        for (let i = 0; i < 12; i++) {
          await s.advanceClock('10m');
          await new Promise((r) => setTimeout(r, 400));
          const r = await s.http('GET', '/v1/webhooks/dead-letters', { as: 'audra' });
          const found = r.body.deadLetters.filter((x: { endpoint: string }) => x.endpoint === bad);
          if (found.length > 0) return found;
        }
        return [];
      })();
      expect(dead.length).toBeGreaterThan(0);
      expect(dead[0]).toMatchObject({ state: 'dead', attempts: 6, lastError: 'HTTP 500' });
    });
  });

  describe('when a dead letter stored before userinfo was refused names a password', () => {
    it('lists its endpoint with the userinfo replaced', async () => {
      const password = 'hunter2-stored-in-an-old-row';
      const db = new Database(join(s.dataDir, 'countersign.db'), { fileMustExist: true });
      try {
        db.pragma('busy_timeout = 10000');
        db.prepare(
          `insert into webhook_deliveries (id, endpoint, event_type, payload, state, attempts,
             next_attempt_at, last_error, created_at)
           values (?, ?, 'request.pending', '{}', 'dead', 6, ?, 'connection failed', ?)`,
        ).run(
          'evt_old_userinfo',
          `http://hook:${password}@chat-bridge.internal/countersign`,
          '2026-01-01T00:00:00.000Z',
          '2026-01-01T00:00:00.000Z',
        );
      } finally {
        db.close();
      }
      const r = await s.http('GET', '/v1/webhooks/dead-letters', { as: 'audra' });
      expect(r.status).toBe(200);
      expect(r.text).not.toContain(password);
      const row = r.body.deadLetters.find((x: { id: string }) => x.id === 'evt_old_userinfo');
      expect(row).toMatchObject({ endpoint: 'http://***@chat-bridge.internal/countersign' });
    });
  });

  describe('when a grant revoked and seen gone is seen again', () => {
    it('notifies that reconciliation reopened its finding', async () => {
      const { token, requestId } = await issueWarrant(s, { targets: ['pg-eu'], duration: '1h' });
      const subject = await subjectOf(s, requestId);
      const receipt = await receiptFor(s, token, stagingAction('pg-eu'));
      await fulfilOk(s, { receipt, target: 'pg-eu', outcome: 'success', fingerprint: fp('g') });
      const seen = async (present: boolean, wait?: string) =>
        observe(
          s,
          sightings(
            subject,
            ['pg-eu'],
            grantFact('db/orders', 'read', present),
            await later(s, wait),
          ),
        );
      await seen(true, '1h1m');
      expect((await reconcileNow(s)).raised).toBeGreaterThan(0);
      await fulfilOk(s, { receipt, target: 'pg-eu', outcome: 'success', phase: 'revoke' });
      await seen(false);
      expect((await reconcileNow(s)).resolved).toBe(1);
      await seen(true, '1m');
      expect((await reconcileNow(s)).reopened).toBe(1);

      const d = await until(
        () => received.find((x) => x.body.includes('finding.reopened') && x.body.includes(subject)),
        'the reopening',
      );
      expect(JSON.parse(d.body)).toMatchObject({
        type: 'dev.countersign.finding.reopened',
        data: {
          finding: { kind: 'EXPIRED_NOT_REVOKED', subject, state: 'open', resolution: null },
        },
      });
    });
  });
});
