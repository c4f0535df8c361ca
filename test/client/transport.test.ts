import { afterEach, describe, expect, it } from 'vitest';
import {
  CountersignApiError,
  CountersignClient,
  CountersignClientError,
  type ClientOptions,
} from '../../src/client/index.js';
import {
  deadAddress,
  jsonAnswer,
  problemAnswer,
  ScriptedServer,
  type Answer,
} from './scripted-server.js';
import { rejection } from '../helpers/expect-code.js';

const TOKEN = 'cs_secret-token-that-must-never-be-printed';
const action = { resource: 'db/orders', permission: 'read', environment: 'staging' };
const warrant = 'header.payload.signature';

/** Every text an error shows: message, stack, and the same of its causes. */
function everyText(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 5; depth++) {
    parts.push(String(c), c.message, c.stack ?? '');
    c = c.cause;
  }
  return parts.join('\n');
}

describe('CountersignClient transport', () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  /** A client against a scripted server; backoff kept short, since waiting proves nothing. */
  async function against(
    script: (n: number) => Answer,
    o: Partial<ClientOptions> = {},
  ): Promise<{ cs: CountersignClient; s: ScriptedServer }> {
    const s = await ScriptedServer.start(script);
    server = s;
    const cs = new CountersignClient({
      baseUrl: s.url,
      token: TOKEN,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      ...o,
    });
    return { cs, s };
  }

  describe('when the server answers a redemption with a redirect', () => {
    it('follows it nowhere: the warrant and the token stay where they were sent', async () => {
      const elsewhere = await ScriptedServer.start(() => jsonAnswer({ ok: true }));
      try {
        const { cs, s } = await against(() => ({
          status: 307,
          headers: { location: `${elsewhere.url}/v1/redemptions` },
        }));
        const e = await rejection(cs.redeem({ warrant, action }));
        expect(e).toBeInstanceOf(CountersignClientError);
        expect(s.seen).toHaveLength(1);
        expect(elsewhere.seen).toHaveLength(0);
      } finally {
        await elsewhere.stop();
      }
    });
  });

  describe('when a GET meets 503 and then an answer', () => {
    it('retries until it succeeds and resolves to the answer', async () => {
      const { cs, s } = await against((n) =>
        n < 2 ? problemAnswer(503, 'NOT_READY') : jsonAnswer({ ok: true }),
      );
      expect(await cs.request('GET', '/v1/anything')).toEqual({ ok: true });
      expect(s.seen).toHaveLength(3);
    });
  });

  describe('when every attempt meets 503', () => {
    it('gives up after the configured attempts with the last answer as the error', async () => {
      const { cs, s } = await against(() => problemAnswer(503, 'NOT_READY', 'the database'), {
        retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
      });
      const e = await rejection(cs.request('GET', '/v1/anything'));
      expect(e).toBeInstanceOf(CountersignApiError);
      expect(e).toMatchObject({ status: 503, code: 'NOT_READY', detail: 'the database' });
      expect((e as Error).message).toBe('NOT_READY: the database');
      expect(s.seen).toHaveLength(4);
    });
  });

  describe('when a redemption without an idempotency key meets 503', () => {
    it('is sent exactly once', async () => {
      const { cs, s } = await against(() => problemAnswer(503, 'OVERLOADED'));
      const e = await rejection(cs.redeem({ warrant, action }));
      expect(e).toMatchObject({ status: 503, code: 'OVERLOADED' });
      expect(s.seen).toHaveLength(1);
    });

    it('is sent once even when the caller calls it idempotent', async () => {
      const { cs, s } = await against(() => problemAnswer(502, 'HTTP_502'));
      await rejection(cs.redeem({ warrant, action }, { idempotent: true }));
      expect(s.seen).toHaveLength(1);
    });
  });

  describe('when a redemption that is safe to repeat meets 503', () => {
    const allowed = { receipt: 'r', use: 1, maxUses: 1, remaining: 0 };

    it('retries one with an idempotency key, sending the same body', async () => {
      const { cs, s } = await against((n) =>
        n === 0 ? problemAnswer(503, 'OVERLOADED') : jsonAnswer(allowed),
      );
      const out = await cs.redeem({ warrant, action, idempotencyKey: 'run-1' });
      expect(out).toEqual(allowed);
      expect(s.seen).toHaveLength(2);
      expect(s.seen[1]?.body).toBe(s.seen[0]?.body);
      expect(JSON.parse(s.seen[0]?.body ?? '')).toEqual({
        warrant,
        action,
        idempotencyKey: 'run-1',
      });
    });

    it('retries a dry run', async () => {
      const { cs, s } = await against((n) =>
        n === 0 ? problemAnswer(504, 'HTTP_504') : jsonAnswer({ dryRun: true, allowed: true }),
      );
      expect(await cs.redeem({ warrant, action, dryRun: true })).toMatchObject({ dryRun: true });
      expect(s.seen).toHaveLength(2);
    });
  });

  describe('when another POST meets 503', () => {
    it('is sent once, unless the caller marks it idempotent', async () => {
      const once = await against(() => problemAnswer(503, 'OVERLOADED'));
      await rejection(once.cs.request('POST', '/v1/reconcile'));
      expect(once.s.seen).toHaveLength(1);
      await once.s.stop();

      const marked = await against((n) =>
        n === 0 ? problemAnswer(503, 'OVERLOADED') : jsonAnswer({ raised: 0 }),
      );
      expect(await marked.cs.request('POST', '/v1/reconcile', {}, { idempotent: true })).toEqual({
        raised: 0,
      });
      expect(marked.s.seen).toHaveLength(2);
    });
  });

  describe('when the server answers 429 with Retry-After', () => {
    it('waits at least that long before the retry', async () => {
      const { cs, s } = await against((n) =>
        n === 0 ? problemAnswer(429, 'OVERLOADED', 'busy', { 'retry-after': '1' }) : jsonAnswer(1),
      );
      expect(await cs.request('GET', '/v1/x')).toBe(1);
      const [first, second] = s.seen;
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000 - 5);
    });

    it('gives a wait longer than a minute back to the caller, with retryAfterMs', async () => {
      const { cs, s } = await against(() =>
        problemAnswer(429, 'OVERLOADED', 'busy', { 'retry-after': '120' }),
      );
      const e = await rejection(cs.request('GET', '/v1/x'));
      expect(e).toMatchObject({ status: 429, retryAfterMs: 120_000 });
      expect(s.seen).toHaveLength(1);
    });
  });

  describe('when the server answers another 4xx', () => {
    it.each([
      [400, 'VALIDATION_FAILED'],
      [401, 'UNAUTHENTICATED'],
      [404, 'REQUEST_UNKNOWN'],
      [408, 'REQUEST_TIMEOUT'],
      [409, 'REQUEST_NOT_PENDING'],
    ])('does not retry %i, even a GET, and carries the code', async (status, code) => {
      const { cs, s } = await against(() => problemAnswer(status, code));
      const e = await rejection(cs.getRequest('sha256:abc'));
      expect(e).toBeInstanceOf(CountersignApiError);
      expect(e).toMatchObject({ status, code, title: code });
      expect(s.seen).toHaveLength(1);
    });
  });

  describe('when an attempt gets no answer in time', () => {
    it('times out each attempt, retries a GET, then fails TIMEOUT', async () => {
      const { cs, s } = await against(() => 'hang', {
        timeoutMs: 100,
        retry: { attempts: 2, baseDelayMs: 1 },
      });
      const e = await rejection(cs.request('GET', '/v1/slow'));
      expect(e).toBeInstanceOf(CountersignClientError);
      expect(e).toMatchObject({ code: 'TIMEOUT' });
      expect((e as Error).message).toBe('GET /v1/slow: no answer within 100 ms');
      expect(s.seen).toHaveLength(2);
    });

    it('does not send a plain redemption again', async () => {
      const { cs, s } = await against(() => 'hang', { timeoutMs: 100 });
      expect(await rejection(cs.redeem({ warrant, action }))).toMatchObject({ code: 'TIMEOUT' });
      expect(s.seen).toHaveLength(1);
    });
  });

  describe('when nothing listens at the address', () => {
    it('fails UNREACHABLE naming the server and the system error', async () => {
      const addr = await deadAddress();
      const cs = new CountersignClient({ baseUrl: addr, token: TOKEN, retry: { baseDelayMs: 1 } });
      const e = await rejection(cs.getRequest('sha256:abc'));
      expect(e).toBeInstanceOf(CountersignClientError);
      expect(e).toMatchObject({ code: 'UNREACHABLE', server: addr });
      expect((e as Error).message).toBe('GET /v1/requests/sha256%3Aabc: ECONNREFUSED');
    });
  });

  describe('when the answer is not JSON', () => {
    it('fails BAD_RESPONSE on a success status', async () => {
      const { cs, s } = await against(() => ({
        status: 200,
        headers: { 'content-type': 'text/html' },
        body: '<html>captive portal</html>',
      }));
      const e = await rejection(cs.getRequest('sha256:abc'));
      expect(e).toBeInstanceOf(CountersignClientError);
      expect(e).toMatchObject({ code: 'BAD_RESPONSE' });
      expect(s.seen).toHaveLength(1);
    });

    it('reads an error status without a problem document as HTTP_<status>', async () => {
      const { cs } = await against(() => ({ status: 500, body: '<html>oops</html>' }));
      const e = await rejection(cs.request('POST', '/v1/x'));
      expect(e).toMatchObject({ status: 500, code: 'HTTP_500', detail: 'Internal Server Error' });
    });

    it('answers text when asked for text', async () => {
      const { cs } = await against(() => ({ status: 200, body: 'origin\n3\nroot\n' }));
      expect(
        await cs.request('GET', '/v1/log/checkpoint', undefined, { responseType: 'text' }),
      ).toBe('origin\n3\nroot\n');
    });
  });

  describe('when a call fails in any way', () => {
    it('never shows the token in what the error says', async () => {
      const failures: Array<(n: number) => Answer> = [
        () => problemAnswer(401, 'UNAUTHENTICATED'),
        () => problemAnswer(503, 'OVERLOADED'),
        () => ({ status: 200, body: 'not json' }),
        () => ({ status: 502, body: 'bad gateway' }),
        () => 'hang',
      ];
      for (const script of failures) {
        const { cs, s } = await against(script, { timeoutMs: 100, retry: { attempts: 1 } });
        const e = await rejection(cs.redeem({ warrant, action }));
        expect(everyText(e)).not.toContain(TOKEN);
        expect(everyText(e)).not.toContain(warrant);
        expect(s.seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
        await s.stop();
        server = undefined;
      }
      const dead = new CountersignClient({ baseUrl: await deadAddress(), token: TOKEN });
      expect(everyText(await rejection(dead.redeem({ warrant, action })))).not.toContain(TOKEN);
    });

    it('refuses a token that is no header value without quoting it', async () => {
      const { cs, s } = await against(() => jsonAnswer({}), { token: `${TOKEN}\r\nx-evil: 1` });
      const e = await rejection(cs.request('GET', '/v1/x'));
      expect(e).toBeInstanceOf(TypeError);
      expect(everyText(e)).not.toContain(TOKEN);
      expect(s.seen).toHaveLength(0);
    });
  });

  describe('when the token is a function', () => {
    it('is called for every attempt, so each carries a fresh token', async () => {
      let minted = 0;
      const { cs, s } = await against(
        (n) => (n < 2 ? problemAnswer(503, 'OVERLOADED') : jsonAnswer({})),
        { token: async () => `oidc-${++minted}` },
      );
      await cs.request('GET', '/v1/x');
      expect(s.seen.map((r) => r.headers.authorization)).toEqual([
        'Bearer oidc-1',
        'Bearer oidc-2',
        'Bearer oidc-3',
      ]);
    });
  });

  describe('when the caller aborts', () => {
    it('rejects with the signal reason and sends nothing more', async () => {
      const { cs, s } = await against(() => 'hang', { timeoutMs: 5000 });
      const ctl = new AbortController();
      const pending = rejection(cs.request('GET', '/v1/x', undefined, { signal: ctl.signal }));
      while (s.seen.length === 0) await new Promise((ok) => setImmediate(ok));
      const reason = new Error('user cancelled');
      ctl.abort(reason);
      expect(await pending).toBe(reason);
      expect(s.seen).toHaveLength(1);
    });
  });

  describe('when a path would leave the server', () => {
    it('refuses it before sending the token anywhere', async () => {
      const { cs, s } = await against(() => jsonAnswer({}));
      for (const path of ['//evil.example/x', '/\\evil.example/x', 'v1/x']) {
        expect(await rejection(cs.request('GET', path))).toBeInstanceOf(TypeError);
      }
      expect(s.seen).toHaveLength(0);
    });
  });

  describe('when the base URL has a path', () => {
    it('sends every call below it, with JSON and the user agent', async () => {
      const { s } = await against(() => jsonAnswer({}, 201));
      const cs = new CountersignClient({
        baseUrl: `${s.url}/countersign/`,
        userAgent: 'deployer/1.0',
      });
      await cs.decide('sha256:ab', { decision: 'approve' });
      expect(s.seen[0]).toMatchObject({
        method: 'POST',
        path: '/countersign/v1/requests/sha256%3Aab/decisions',
        body: '{"decision":"approve"}',
      });
      expect(s.seen[0]?.headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': 'deployer/1.0',
      });
      expect(s.seen[0]?.headers.authorization).toBeUndefined();
    });
  });
});
