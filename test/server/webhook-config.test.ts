import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/server/config.js';
import { expectCode } from '../helpers/expect-code.js';

const dir = mkdtempSync(join(tmpdir(), 'countersign-webhook-entries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PASSWORD = 'hunter2-in-the-hook-url';

/** Writes a config of webhook entries, one per URL, and returns its path. */
const withHooks = (name: string, ...urls: string[]): string => {
  const path = join(dir, name);
  const webhooks = urls.map((url) => ({
    url,
    secretEnv: 'HOOK_SECRET',
    events: ['request.pending'],
  }));
  writeFileSync(path, JSON.stringify({ webhooks }));
  return path;
};

describe('loadConfigFile with webhooks', () => {
  describe('when a URL carries userinfo', () => {
    it.each([
      ['a user and a password', `http://hook:${PASSWORD}@chat-bridge.internal/countersign`],
      ['a password alone', `https://:${PASSWORD}@chat-bridge.internal/countersign`],
    ])('refuses %s with CONFIG_INVALID naming the entry, never the password', (_, url) => {
      const path = withHooks('userinfo.json', 'https://ok.internal/hook', url);
      const err = expectCode(() => loadConfigFile(path), 'CONFIG_INVALID');
      expect(err.message).toContain('/webhooks/1/url carries userinfo');
      expect(`${err.message} ${JSON.stringify(err.details)}`).not.toContain(PASSWORD);
    });
  });

  describe('when a URL is not an http(s) URL', () => {
    it('refuses it with CONFIG_INVALID', () => {
      const err = expectCode(
        () => loadConfigFile(withHooks('not-url.json', 'http://exa mple/')),
        'CONFIG_INVALID',
      );
      expect(err.message).toContain('/webhooks/0/url is not a URL');
    });
  });

  describe('when two entries name the same URL', () => {
    it('refuses the second with CONFIG_INVALID, as each entry signs with its own secret', () => {
      const url = 'https://chat-bridge.internal/countersign';
      const path = withHooks('twice.json', url, 'https://other.internal/hook', url);
      const err = expectCode(() => loadConfigFile(path), 'CONFIG_INVALID');
      expect(err.message).toContain('/webhooks/2/url is also the url of entry 0');
    });
  });

  describe('when URLs are plain http or https, to any host', () => {
    it('loads them as written', () => {
      const urls = ['http://chat-bridge.internal/countersign', 'https://hooks.example/cs?team=ops'];
      expect(loadConfigFile(withHooks('fine.json', ...urls)).webhooks?.map((w) => w.url)).toEqual(
        urls,
      );
    });
  });
});
