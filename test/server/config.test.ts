import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
