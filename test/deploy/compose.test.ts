/**
 * docker-compose.yml cannot be run here (no Docker): its structure is checked, and the
 * configuration it mounts is loaded as the server loads it. compose-run.test.ts runs its
 * command lines on a real PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../src/policy/load.js';
import { DEFAULT_PORT, loadConfigFile } from '../../src/server/config.js';
import { COMPOSE_FILE, COMPOSE_IMAGE, composeHostPath, composeServices } from './files.js';
import { optionValue } from './usage.js';

const services = composeServices();
const NODES = ['countersign-a', 'countersign-b'] as const;
const node = (name: string) => services[name]!;

/** `127.0.0.1:8471:8470` → the host port and the container port. */
function published(mapping: string): { host: number; container: number } {
  const parts = mapping.split(':');
  return { host: Number(parts.at(-2)), container: Number(parts.at(-1)) };
}

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, a one-shot migration and two countersign nodes', () => {
    expect(Object.keys(services).sort()).toEqual([
      'countersign-a',
      'countersign-b',
      'migrate',
      'postgres',
    ]);
    for (const name of ['migrate', ...NODES]) expect(node(name).image).toBe(COMPOSE_IMAGE);
  });

  describe('when PostgreSQL starts', () => {
    it('is version 15 and reports healthy only once it accepts connections', () => {
      const pg = node('postgres');
      expect(pg.image).toBe('postgres:15');
      expect(pg.healthcheck?.test).toEqual(expect.arrayContaining(['pg_isready']));
    });
  });

  describe('when the migration runs', () => {
    it('waits for a healthy database, runs once and is not restarted', () => {
      const m = node('migrate');
      expect(m.command).toEqual(['migrate']);
      expect(m.depends_on?.postgres?.condition).toBe('service_healthy');
      expect(m.restart).toBe('no');
    });
  });

  describe('when the nodes start', () => {
    it('start only after the migration succeeded', () => {
      for (const n of NODES) {
        expect(node(n).depends_on?.migrate?.condition).toBe('service_completed_successfully');
      }
    });

    it('are published on 8470 and 8471, each to the port serve listens on', () => {
      const ports = NODES.map((n) => node(n).ports?.map(published));
      expect(ports).toEqual([
        [{ host: 8470, container: DEFAULT_PORT }],
        [{ host: 8471, container: DEFAULT_PORT }],
      ]);
      for (const n of NODES) {
        // Neither flag nor variable nor config moves the node off the default port.
        expect(optionValue(node(n).command!, '--port')).toBeUndefined();
        expect(node(n).environment).not.toHaveProperty('COUNTERSIGN_PORT');
      }
    });

    it("keep the image's /readyz healthcheck", () => {
      for (const n of NODES) expect(node(n).healthcheck).toBeUndefined();
    });

    it('share one database, its password and one key-encryption key', () => {
      const [a, b] = NODES.map((n) => node(n).environment ?? {});
      for (const v of ['COUNTERSIGN_DATABASE_URL', 'PGPASSWORD', 'COUNTERSIGN_KEK']) {
        expect(a![v], v).toBeDefined();
        expect(b![v], v).toBe(a![v]);
      }
      expect(node('migrate').environment?.COUNTERSIGN_DATABASE_URL).toBe(
        a!.COUNTERSIGN_DATABASE_URL,
      );
      // the password travels in PGPASSWORD, never in the URL
      expect(new URL(a!.COUNTERSIGN_DATABASE_URL!).password).toBe('');
    });

    it('read the configuration and policy in deploy/compose/, which load as the server loads them', () => {
      for (const n of NODES) {
        const config = optionValue(node(n).command!, '--config');
        const file = composeHostPath(node(n), config!);
        expect(file, `${n} mounts ${config}`).toMatch(/deploy\/compose\/countersign\.yaml$/);
        const loaded = loadConfigFile(file!);
        expect(loaded.policyFile).toMatch(/deploy\/compose\/policy\.yaml$/);
        const policy = parsePolicyText(
          readFileSync(loaded.policyFile!, 'utf8'),
          extname(loaded.policyFile!) === '.json' ? 'json' : 'yaml',
        );
        expect(policy.environments).toContain('prod');
        // the database and the KEK come from the environment, not from the mounted file
        expect(loaded.database).toBeUndefined();
        expect(loaded.kekFile).toBeUndefined();
      }
    });
  });

  describe('when a required variable is unset', () => {
    it('refuses to start: every ${…} it uses is ${NAME:?message}, none has a default', () => {
      const uses = [...readFileSync(COMPOSE_FILE, 'utf8').matchAll(/\$\{[^}]*\}/g)].map(
        (m) => m[0],
      );
      expect(uses.length).toBeGreaterThan(0);
      for (const use of uses) expect(use).toMatch(/^\$\{[A-Z_][A-Z0-9_]*:\?[^}]+\}$/);
    });
  });
});
