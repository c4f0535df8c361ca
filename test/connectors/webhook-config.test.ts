import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { systemClock } from '../../src/core/clock.js';
import { generateSigningKey, KeyRing } from '../../src/keys/keyring.js';
import { loadConfigFile } from '../../src/server/config.js';
import { buildConnectors, type ConnectorConfig } from '../../src/server/connectors.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';
import { Receiver } from './webhook-receiver.js';

/**
 * Webhook connectors as the server builds them from its config: signed with the key
 * ring's active key, the bearer token from a file or the environment and nowhere else.
 */

const dir = mkdtempSync(join(tmpdir(), 'countersign-webhook-config-'));
const TOKEN = `tok-${randomBytes(18).toString('base64url')}`;
let ring: KeyRing;
let receiver: Receiver;

beforeAll(async () => {
  const kek = randomBytes(32);
  ring = KeyRing.load([await generateSigningKey(kek, new Date())], kek);
  receiver = await Receiver.start(() => ring.jwks());
});
afterAll(async () => {
  await receiver.stop();
  rmSync(dir, { recursive: true, force: true });
});

const webhook = (extra: Record<string, unknown> = {}) =>
  ({ name: 'tickets', kind: 'webhook', url: receiver.url, ...extra }) as ConnectorConfig;

const build = (config: ConnectorConfig, env: NodeJS.ProcessEnv = {}): Connector => {
  const c = buildConnectors([config], env, systemClock, () => ring).get('tickets');
  if (c === undefined) throw new Error('no connector built');
  return c;
};

const grantOf = (grantId: string) => ({
  grantId,
  subject: 'nhi:agent/triage',
  scope: [{ resource: 'webhook/tickets/queue/ops', permissions: ['read'] }],
  notAfter: new Date(Date.now() + 3_600_000),
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address() as { port: number };
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

describe('buildConnectors with a webhook connector', () => {
  describe('when the token comes from the environment', () => {
    it('signs with the ring’s active key and sends the token as a bearer token', async () => {
      const c = build(webhook({ tokenEnv: 'TICKETS_HOOK_TOKEN' }), { TICKETS_HOOK_TOKEN: TOKEN });
      await c.grant(grantOf('rcp_cfg1'));
      const [post] = receiver.received.slice(-1);
      expect(post?.refused).toBeNull();
      expect(post?.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(JSON.parse(post?.body ?? '{}')).toMatchObject({
        signatures: [{ keyid: ring.activeKid }],
      });
    });

    it('never puts the token in an error, refused or unreachable', async () => {
      const errors: unknown[] = [];
      receiver.script.push({ status: 401, body: JSON.stringify({ echo: TOKEN }) });
      const c = build(webhook({ tokenEnv: 'T', maxAttempts: 1 }), { T: TOKEN });
      errors.push(await expectCodeAsync(() => c.grant(grantOf('rcp_cfg2')), 'CONNECTOR_FAILED'));
      const url = `http://127.0.0.1:${await closedPort()}/`;
      const gone = build(webhook({ url, tokenEnv: 'T', maxAttempts: 1 }), { T: TOKEN });
      errors.push(await expectCodeAsync(() => gone.revoke('rcp_cfg2'), 'CONNECTOR_FAILED'));
      for (const e of errors) {
        const err = e as Error & { details?: unknown; cause?: unknown };
        const all = `${err.message} ${JSON.stringify(err.details)} ${String(err.cause)} ${err.stack}`;
        expect(all).not.toContain(TOKEN);
      }
      expect((errors[1] as Error).message).toContain('connection failed');
    });
  });

  describe('when the token comes from a file', () => {
    it('reads it, trimmed, relative to the config file', async () => {
      writeFileSync(join(dir, 'hook-token'), `${TOKEN}\n`);
      const path = join(dir, 'config.json');
      writeFileSync(path, JSON.stringify({ connectors: [webhook({ tokenFile: 'hook-token' })] }));
      const [config] = loadConfigFile(path).connectors ?? [];
      await build(config as ConnectorConfig).grant(grantOf('rcp_cfg3'));
      expect(receiver.received.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    });
  });

  describe('when the config is refused', () => {
    it.each([
      ['userinfo in the url', { url: 'https://hook:s3cret@tickets.example/calls' }, 'userinfo'],
      ['userinfo in the observeUrl', { observeUrl: 'https://s3cret@tickets.example/' }, 'userinfo'],
      ['a url that is not http(s)', { url: 'file:///etc/passwd' }, 'not http(s)'],
      [
        'a plain http url to a host that is not loopback',
        { url: 'http://tickets-broker.internal/countersign' },
        'url is plain http to a host that is not loopback; use https',
      ],
      [
        'a plain http observeUrl to an address that is not loopback',
        { observeUrl: 'http://10.0.0.7/grants' },
        'observeUrl is plain http to a host that is not loopback; use https',
      ],
      ['a url that is not a URL', { url: 'tickets' }, 'not a URL'],
      [
        'both tokenFile and tokenEnv',
        { tokenFile: '/x', tokenEnv: 'T' },
        'by tokenFile or tokenEnv',
      ],
      ['a tokenEnv the environment lacks', { tokenEnv: 'NOT_SET_ANYWHERE' }, 'no NOT_SET_ANYWHERE'],
      ['a token that is not a bearer token', { tokenEnv: 'BAD' }, 'not an RFC 6750 bearer token'],
    ])('refuses %s with CONFIG_INVALID, never quoting a secret', (_, extra, why) => {
      const env = { T: TOKEN, BAD: 's3cret with spaces' };
      const err = expectCode(() => build(webhook(extra), env), 'CONFIG_INVALID');
      expect(err.message).toContain(why);
      expect(err.message).not.toContain('s3cret');
    });

    it.each([
      'https://tickets-broker.internal/countersign',
      'http://127.0.0.1:8471/countersign',
      'http://localhost:8471/countersign',
      'http://[::1]:8471/countersign',
    ])('accepts %s: https anywhere, plain http to loopback alone', (url) => {
      expect(build(webhook({ url, tokenEnv: 'T' }), { T: TOKEN }).name).toBe('tickets');
    });

    it('names the webhook field at fault, not "Expected union value"', () => {
      const path = join(dir, 'bad.json');
      writeFileSync(path, JSON.stringify({ connectors: [webhook({ maxAttempts: 0 })] }));
      const err = expectCode(() => loadConfigFile(path), 'CONFIG_INVALID');
      expect(err.message).toContain('/connectors/0/maxAttempts');
    });

    it('still names the PostgreSQL field at fault', () => {
      const path = join(dir, 'bad-pg.json');
      writeFileSync(path, JSON.stringify({ connectors: [{ name: 'appdb', kind: 'postgres' }] }));
      const err = expectCode(() => loadConfigFile(path), 'CONFIG_INVALID');
      expect(err.message).toContain('/connectors/0/database');
    });
  });
});
