import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { newApiToken } from '../../src/identity/api-tokens.js';
import { readGatingConfig } from '../../src/mcp/gating-config.js';
import { assertUniquePrincipals, loadConfigFile } from '../../src/server/config.js';
import { expectCode } from '../helpers/expect-code.js';

const dir = mkdtempSync(join(tmpdir(), 'countersign-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const principal = (id: string, roles: string[]) => ({
  id,
  roles,
  tokenSha256: newApiToken().sha256,
});

/** Writes `config` as a JSON config file and returns its path. */
const write = (name: string, config: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(config));
  return path;
};

describe('loadConfigFile', () => {
  describe('when two principals share one id', () => {
    it('refuses the file with CONFIG_INVALID naming the id, whatever their roles', () => {
      const path = write('twice.json', {
        principals: [principal('ops', ['requester']), principal('ops', ['admin'])],
      });
      const err = expectCode(() => loadConfigFile(path), 'CONFIG_INVALID');
      expect(err.message).toContain('principal ops is declared more than once');
    });
  });

  describe('when the ids differ, if only by case', () => {
    it('loads the principals as written', () => {
      const path = write('distinct.json', {
        principals: [principal('ops', ['requester']), principal('Ops', ['admin'])],
      });
      expect(loadConfigFile(path).principals?.map((p) => p.id)).toEqual(['ops', 'Ops']);
    });
  });
});

describe('loadConfigFile on a file it cannot read', () => {
  /** Writes `text` as it is and returns its path. */
  const raw = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const PASSWORD = 'hunter2-in-the-url';
  const database = `postgres://cs:${PASSWORD}@db.internal/cs`;

  it.each([
    [
      'a YAML key twice',
      'c.yaml',
      `port: 8470\ndatabase: ${database}\ndatabase: x\n`,
      /DUPLICATE_KEY\) at line 3/,
    ],
    [
      'YAML cut off',
      'd.yaml',
      `database: "${database}\nport: [1,\n`,
      /not valid YAML \(\w+\) at line \d+/,
    ],
    [
      'a JSON key twice',
      'e.json',
      `{"database":"${database}","database":"x"}`,
      /DUPLICATE_JSON_KEY/,
    ],
    ['JSON cut off', 'f.json', `{"database": ${database}`, /INVALID_JSON/],
  ])('refuses %s with CONFIG_INVALID saying where, never quoting a line', (_, name, text, why) => {
    const err = expectCode(() => loadConfigFile(raw(name, text)), 'CONFIG_INVALID');
    expect(err.message).toMatch(why);
    expect(err.message).not.toContain(PASSWORD);
    expect(err.cause).toBeUndefined();
  });

  it('reads a value with a tag it does not know as text, and prints no warning quoting it', () => {
    const warn = vi.spyOn(process, 'emitWarning');
    try {
      const path = raw('g.yaml', `database: !env ${database}\n`);
      expect(loadConfigFile(path).database).toBe(database);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('loadConfigFile with an mcpGateway section', () => {
  it('loads the server config, and the gateway reads its own section of the same file', () => {
    const section = {
      server: 'orders-db',
      environment: 'staging',
      subject: 'agent:ops-bot',
      executor: 'mcp-gateway',
    };
    const path = write('both.json', { port: 8470, mcpGateway: section });
    expect(loadConfigFile(path).port).toBe(8470);
    expect(readGatingConfig(path)).toMatchObject({ server: 'orders-db', subject: 'agent:ops-bot' });
  });
});

describe('assertUniquePrincipals', () => {
  describe('when the dev principals and the config name one id', () => {
    it('refuses them with CONFIG_INVALID naming where', () => {
      const err = expectCode(
        () => assertUniquePrincipals([{ id: 'alice' }, { id: 'bob' }, { id: 'alice' }], 'dev'),
        'CONFIG_INVALID',
      );
      expect(err.message).toBe('dev: principal alice is declared more than once');
    });
  });
});
