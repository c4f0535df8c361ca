import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/server/config.js';
import { startServer } from '../../src/server/start.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';

describe('the driftGrace setting', () => {
  let dir: string;
  const configWith = (driftGrace: string): string => {
    const file = join(dir, 'countersign.yaml');
    writeFileSync(file, `driftGrace: ${driftGrace}\n`);
    return file;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('when it is a duration', () => {
    it('is read as written', () => {
      expect(loadConfigFile(configWith('15m')).driftGrace).toBe('15m');
    });
  });

  describe('when it is not a duration', () => {
    it('refuses the file, naming the setting', () => {
      const err = expectCode(() => loadConfigFile(configWith('soon')), 'CONFIG_INVALID');
      expect(err.message).toContain('/driftGrace');
    });

    it('refuses to start the server on a zero grace, before opening the store', async () => {
      const err = await expectCodeAsync(
        () => startServer({ dev: true, configFile: configWith('0m'), dataDir: join(dir, 'data') }),
        'CONFIG_INVALID',
      );
      expect(err.message).toMatch(/^driftGrace: /);
    });
  });
});
