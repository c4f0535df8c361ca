import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, GrantRequest } from '../../src/connectors/connector.js';
import { webhookConnector, type WebhookConnectorConfig } from '../../src/connectors/webhook.js';
import type { HttpDeps } from '../../src/connectors/webhook-http.js';
import { digestOf } from '../../src/core/canonical.js';
import { verifyConnectorCall } from '../../src/evidence/connector-call.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';
import { Receiver } from './webhook-receiver.js';
import { testKey } from './webhook-keys.js';

/**
 * The webhook connector against a real loopback receiver that verifies every call the
 * way an integrator would. Time between attempts is faked: the tests never sleep.
 */

const HOUR = 3_600_000;
const key = testKey();
let receiver: Receiver;
let slept: number[];
let n = 0;

/** Waits recorded, never waited; the jitter is fixed at half the ceiling. */
const fakeTime = (): Partial<HttpDeps> => ({
  sleep: (ms) => {
    slept.push(ms);
    return Promise.resolve();
  },
  random: () => 0.5,
});

function connector(extra: Partial<WebhookConnectorConfig> = {}): Connector {
  return webhookConnector(
    { name: 'tickets', url: `${receiver.url}/calls`, ...extra },
    { seal: key.seal, http: fakeTime() },
  );
}

function request(extra: Partial<GrantRequest> = {}): GrantRequest {
  return {
    grantId: `rcp_test${process.pid}x${++n}`,
    subject: 'nhi:agent/triage',
    scope: [{ resource: 'webhook/tickets/queue/ops', permissions: ['read', 'comment'] }],
    notAfter: new Date(Date.now() + 2 * HOUR),
    ...extra,
  };
}

const posts = () => receiver.received.filter((r) => r.method === 'POST');

beforeAll(async () => {
  receiver = await Receiver.start(() => key.jwks);
});
afterAll(() => receiver.stop());
beforeEach(() => {
  receiver.received.length = 0;
  receiver.script.length = 0;
  slept = [];
});

describe('the webhook connector: grant', () => {
  describe('when the receiver mints a credential', () => {
    it('returns it with its fingerprint, under the grant id as the handle', async () => {
      const req = request();
      const grant = await connector().grant(req);
      const token = receiver.live.get(req.grantId);
      expect(grant.credential).toEqual({ TICKETS_TOKEN: token });
      expect(grant.fingerprint).toBe(digestOf({ TICKETS_TOKEN: token }));
      expect(grant.handle).toBe(req.grantId);
      expect(connector().handleFor(req.grantId)).toBe(req.grantId);
    });

    it('sends exactly the approved call, signed, with the idempotency key in the header', async () => {
      const req = request();
      await connector().grant(req);
      const [post] = posts();
      expect(post?.refused).toBeNull();
      expect(post?.path).toBe('/calls');
      expect(post?.headers['content-type']).toBe('application/vnd.dsse+json');
      expect(post?.headers['idempotency-key']).toBe(`${req.grantId}:grant`);
      expect(post?.headers.authorization).toBeUndefined();
      expect(post?.call).toEqual({
        v: 1,
        op: 'grant',
        connector: 'tickets',
        grantId: req.grantId,
        handle: req.grantId,
        subject: 'nhi:agent/triage',
        scope: [{ resource: 'webhook/tickets/queue/ops', permissions: ['read', 'comment'] }],
        notAfter: req.notAfter.toISOString(),
        issuedAt: expect.any(String) as string,
        idempotencyKey: `${req.grantId}:grant`,
      });
    });

    it("is refused by a receiver pinned to another connector's name", async () => {
      await connector().grant(request());
      const body = posts()[0]?.body ?? '';
      expect(verifyConnectorCall(body, key.jwks, { connector: 'tickets' }).op).toBe('grant');
      expect(() => verifyConnectorCall(body, key.jwks, { connector: 'billing' })).toThrow(
        expect.objectContaining({
          code: 'CONNECTOR_CALL_INVALID',
          details: { reason: 'connector' },
        }),
      );
    });

    it('signs so that any one-byte change to the body fails verification', async () => {
      await connector().grant(request());
      const body = posts()[0]?.body ?? '';
      expect(verifyConnectorCall(body, key.jwks).op).toBe('grant');
      for (let i = 0; i < body.length; i++) {
        const changed =
          body.slice(0, i) + String.fromCharCode(body.charCodeAt(i) ^ 1) + body.slice(i + 1);
        expect(() => verifyConnectorCall(changed, key.jwks), `byte ${i}`).toThrow(
          expect.objectContaining({ code: 'CONNECTOR_CALL_INVALID' }),
        );
      }
    });
  });

  describe('when the receiver fails twice before answering', () => {
    it('retries the same bytes under the same idempotency key after a 503 and a dropped connection', async () => {
      receiver.script.push({ status: 503 }, 'drop');
      const req = request();
      const grant = await connector().grant(req);
      expect(grant.credential.TICKETS_TOKEN).toBe(receiver.live.get(req.grantId));
      const sent = posts();
      expect(sent).toHaveLength(3);
      expect(new Set(sent.map((p) => p.headers['idempotency-key']))).toEqual(
        new Set([`${req.grantId}:grant`]),
      );
      expect(new Set(sent.map((p) => p.body)).size).toBe(1);
      // Full jitter below 250 ms, then 500 ms.
      expect(slept).toEqual([125, 250]);
    });

    it('waits out a Retry-After of a few seconds on 429', async () => {
      receiver.script.push({ status: 429, headers: { 'retry-after': '2' } });
      await connector().grant(request());
      expect(slept).toEqual([2000]);
      expect(posts()).toHaveLength(2);
    });
  });

  describe('when the receiver keeps failing', () => {
    it('gives up after maxAttempts with CONNECTOR_FAILED, naming the last status', async () => {
      receiver.script.push({ status: 500 }, { status: 502 }, { status: 504 });
      const err = await expectCodeAsync(() => connector().grant(request()), 'CONNECTOR_FAILED');
      expect(err.message).toMatch(/answered HTTP 504 \(gave up after 3 of 3 attempts\)/);
      expect(posts()).toHaveLength(3);
    });

    it('gives up at once when Retry-After asks for more than 5 s', async () => {
      receiver.script.push({ status: 503, headers: { 'retry-after': '60' } });
      const err = await expectCodeAsync(() => connector().grant(request()), 'CONNECTOR_FAILED');
      expect(err.message).toContain('retry after 60 s');
      expect(posts()).toHaveLength(1);
    });

    it('stops at the deadline before its attempts are spent', async () => {
      let t = 0;
      for (let i = 0; i < 10; i++) receiver.script.push({ status: 503 });
      const c = webhookConnector(
        { name: 'tickets', url: receiver.url, maxAttempts: 10 },
        {
          seal: key.seal,
          deadlineMs: 1_000,
          http: {
            sleep: (ms) => ((t += ms), Promise.resolve()),
            monotonicMs: () => t,
            random: () => 0.99,
          },
        },
      );
      await expectCodeAsync(() => c.grant(request()), 'CONNECTOR_FAILED');
      expect(posts().length).toBeLessThan(10);
      expect(t).toBeLessThan(1_000);
      receiver.script.length = 0;
    });
  });

  describe('when the receiver refuses', () => {
    it('does not retry a 400', async () => {
      receiver.script.push({ status: 400, body: '{"error":"no such queue"}' });
      const err = await expectCodeAsync(() => connector().grant(request()), 'CONNECTOR_FAILED');
      expect(err.message).toBe('connector "tickets": grant failed: answered HTTP 400');
      expect(err.message).not.toContain('no such queue');
      expect(posts()).toHaveLength(1);
    });
  });

  describe('when a 2xx answer is malformed', () => {
    it.each([
      ['not JSON', 'TICKETS_TOKEN=abc'],
      ['a repeated key', '{"credential":{"A":"secret-1"},"credential":{"A":"secret-2"}}'],
      ['a member it does not define', '{"credential":{"A":"secret-1"},"expires":"soon"}'],
      ['a credential name a shell cannot take', '{"credential":{"A;rm -rf ~":"secret-1"}}'],
      ['an empty credential', '{"credential":{}}'],
      ['a value that is not a string', '{"credential":{"A":1}}'],
      ['no body at all', ''],
    ])('refuses %s with CONNECTOR_FAILED, without retrying or quoting it', async (_, body) => {
      receiver.script.push({ status: 200, body });
      const err = await expectCodeAsync(() => connector().grant(request()), 'CONNECTOR_FAILED');
      expect(err.message).not.toContain('secret-');
      expect(posts()).toHaveLength(1);
    });

    it.each([
      ['PATH', '{"credential":{"TICKETS_TOKEN":"secret-1","PATH":"/tmp/secret-2"}}'],
      ['LD_PRELOAD', '{"credential":{"LD_PRELOAD":"/tmp/secret-1.so"}}'],
      ['BASH_ENV', '{"credential":{"BASH_ENV":"$(secret-1)"}}'],
      ['NODE_OPTIONS', '{"credential":{"NODE_OPTIONS":"--require /tmp/secret-1.js"}}'],
      ['COUNTERSIGN_TOKEN', '{"credential":{"COUNTERSIGN_TOKEN":"secret-1"}}'],
    ])(
      'refuses a credential that sets %s, a variable that steers what a command runs',
      async (name, body) => {
        receiver.script.push({ status: 201, body });
        const err = await expectCodeAsync(() => connector().grant(request()), 'CONNECTOR_FAILED');
        expect(err.message).toContain(`sets ${name},`);
        expect(err.message).not.toContain('secret-');
      },
    );

    it('refuses an answer larger than 64 KiB', async () => {
      const big = JSON.stringify({ credential: { A: 'x'.repeat(70_000) } });
      receiver.script.push({ status: 200, body: big });
      const err = await expectCodeAsync(() => connector().grant(request()), 'CONNECTOR_FAILED');
      expect(err.message).toContain('more than 65536 bytes');
    });

    it('refuses a handle other than the grant id, which revoke could not name', async () => {
      receiver.script.push({ status: 201, body: '{"credential":{"A":"s"},"handle":"their-id"}' });
      const err = await expectCodeAsync(() => connector().grant(request()), 'CONNECTOR_FAILED');
      expect(err.message).toContain('another handle');
    });

    it('takes the grant id echoed back as the handle', async () => {
      const req = request();
      receiver.script.push({
        status: 200,
        body: JSON.stringify({ credential: { A: 's' }, handle: req.grantId }),
      });
      expect((await connector().grant(req)).handle).toBe(req.grantId);
    });
  });

  describe('when the scope is not the connector’s own', () => {
    it.each(['webhook/other/queue/ops', 'webhook/tickets/*'])(
      'refuses %s with CONNECTOR_SCOPE_INVALID and calls no one',
      async (resource) => {
        const req = request({ scope: [{ resource, permissions: ['read'] }] });
        await expectCodeAsync(() => connector().grant(req), 'CONNECTOR_SCOPE_INVALID');
        expect(receiver.received).toHaveLength(0);
      },
    );
  });
});

describe('the webhook connector: revoke', () => {
  it('sends a signed revoke call for the handle, and the receiver forgets the credential', async () => {
    const req = request();
    const grant = await connector().grant(req);
    await connector().revoke(grant.handle);
    expect(receiver.live.has(req.grantId)).toBe(false);
    const revoke = posts()[1];
    expect(revoke?.headers['idempotency-key']).toBe(`${req.grantId}:revoke`);
    expect(revoke?.call).toMatchObject({ op: 'revoke', grantId: req.grantId, handle: req.grantId });
    expect(Object.keys(revoke?.call ?? {})).not.toContain('scope');
  });

  it.each([404, 410])('takes %i as already gone: revoking twice succeeds', async (status) => {
    receiver.script.push({ status });
    await expect(connector().revoke(request().grantId)).resolves.toBeUndefined();
  });

  it('fails with CONNECTOR_FAILED on 403, without retrying', async () => {
    receiver.script.push({ status: 403 });
    await expectCodeAsync(() => connector().revoke(request().grantId), 'CONNECTOR_FAILED');
    expect(posts()).toHaveLength(1);
  });

  it('refuses a handle no grant id could be, with CONNECTOR_SCOPE_INVALID', async () => {
    await expectCodeAsync(() => connector().revoke('not a grant id'), 'CONNECTOR_SCOPE_INVALID');
    expect(receiver.received).toHaveLength(0);
  });
});

describe('the webhook connector: observe', () => {
  const observed = {
    subject: 'nhi:agent/triage',
    role: 'tok-1',
    resource: 'webhook/tickets/queue/ops',
    permission: 'read',
    validUntil: '2026-05-01T12:00:00+02:00',
    managed: true,
  };

  it('reports nothing, and calls no one, without an observeUrl', async () => {
    expect(await connector().observe()).toEqual([]);
    expect(receiver.received).toHaveLength(0);
  });

  it('maps what the receiver reports, as the connector’s target', async () => {
    receiver.observations = {
      observations: [
        { ...observed, grantId: 'tok-1' },
        { ...observed, subject: null, role: 'hand-made', validUntil: null, managed: false },
      ],
    };
    const c = connector({ observeUrl: `${receiver.url}/observe` });
    expect(await c.observe()).toEqual([
      { ...observed, grantId: 'tok-1', target: 'tickets', validUntil: '2026-05-01T10:00:00.000Z' },
      {
        target: 'tickets',
        subject: null,
        role: 'hand-made',
        resource: 'webhook/tickets/queue/ops',
        permission: 'read',
        validUntil: null,
        managed: false,
      },
    ]);
    expect(receiver.received[0]?.method).toBe('GET');
  });

  it.each([
    ['a member it does not define', { observations: [{ ...observed, note: 'x' }] }],
    ['a missing member', { observations: [{ ...observed, managed: undefined }] }],
    [
      'a validUntil that is not an instant',
      { observations: [{ ...observed, validUntil: 'tomorrow' }] },
    ],
    [
      'a resource of another connector',
      { observations: [{ ...observed, resource: 'pg/appdb/public/x' }] },
    ],
    ['no observations list', { grants: [] }],
    ['a grantId no grant could have', { observations: [{ ...observed, grantId: 'a b' }] }],
  ])('refuses an answer with %s (CONNECTOR_FAILED)', async (_, answer) => {
    receiver.observations = answer;
    const c = connector({ observeUrl: `${receiver.url}/observe` });
    await expectCodeAsync(() => c.observe(), 'CONNECTOR_FAILED');
  });
});

describe('the webhook connector: close', () => {
  it('ends a call waiting between attempts as CONNECTOR_FAILED', async () => {
    receiver.script.push({ status: 503 });
    const c = webhookConnector(
      { name: 'tickets', url: receiver.url },
      {
        seal: key.seal,
        http: {
          sleep: (_, signal) =>
            new Promise((_ok, fail) => {
              void c.close();
              fail(signal.reason as Error);
            }),
        },
      },
    );
    const err = await expectCodeAsync(() => c.grant(request()), 'CONNECTOR_FAILED');
    expect(err.message).toContain('closed');
  });
});

describe('the webhook connector: its URLs', () => {
  describe('when a URL is plain http to a host that is not loopback', () => {
    it.each([
      ['url', { url: 'http://tickets-broker.internal/calls' }],
      ['observeUrl', { observeUrl: 'http://192.0.2.10/grants' }],
    ])(
      'refuses the %s with CONNECTOR_SCOPE_INVALID, before a token could cross in clear',
      (field, extra) => {
        const err = expectCode(
          () =>
            webhookConnector(
              { name: 'tickets', url: receiver.url, token: 'tok', ...extra },
              {
                seal: key.seal,
              },
            ),
          'CONNECTOR_SCOPE_INVALID',
        );
        expect(err.message).toBe(
          `connector "tickets": ${field} is plain http to a host that is not loopback; use https`,
        );
      },
    );
  });
});
