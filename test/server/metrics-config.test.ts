import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile, metricsListen } from '../../src/server/config.js';
import { startServer } from '../../src/server/start.js';
import { expectCode } from '../helpers/expect-code.js';

describe('the metrics.listen setting', () => {
  let dir: string;
  const configWith = (metrics: unknown): string => {
    const file = join(dir, 'countersign.json');
    writeFileSync(file, JSON.stringify({ metrics }));
    return file;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-metrics-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('when it is absent', () => {
    it('opens no scrape port', () => {
      expect(metricsListen(loadConfigFile(configWith({})))).toBeNull();
      expect(metricsListen({})).toBeNull();
    });
  });

  describe('when it names a host and port', () => {
    it('reads a name, an IPv4 address or a bracketed IPv6 address', () => {
      const at = (listen: string) => metricsListen(loadConfigFile(configWith({ listen })));
      expect(at('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
      expect(at('localhost:0')).toEqual({ host: 'localhost', port: 0 });
      expect(at('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    });
  });

  describe('when it is not host:port', () => {
    it('refuses the file, naming the setting', () => {
      for (const listen of ['9464', 'http://127.0.0.1:9464', '127.0.0.1:', '::1:9464']) {
        const err = expectCode(() => loadConfigFile(configWith({ listen })), 'CONFIG_INVALID');
        expect(err.message).toContain('/metrics/listen');
      }
      expectCode(() => loadConfigFile(configWith({ port: 9464 })), 'CONFIG_INVALID');
    });

    it('refuses a port above 65535', () => {
      const cfg = loadConfigFile(configWith({ listen: '127.0.0.1:70000' }));
      expect(expectCode(() => metricsListen(cfg), 'CONFIG_INVALID').message).toMatch(
        /^metrics\.listen: /,
      );
    });
  });

  describe('when its port is taken', () => {
    let busy: Server;
    beforeEach(async () => {
      busy = createServer();
      await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    });
    afterEach(async () => {
      await new Promise((ok) => busy.close(ok));
    });

    it('refuses to start the server', async () => {
      const { port } = busy.address() as AddressInfo;
      const start = startServer({
        dev: true,
        port: 0,
        configFile: configWith({ listen: `127.0.0.1:${port}` }),
        dataDir: join(dir, 'data'),
        env: { COUNTERSIGN_LOG_LEVEL: 'silent' },
      });
      await expect(start).rejects.toMatchObject({ code: 'EADDRINUSE' });
    });
  });
});
