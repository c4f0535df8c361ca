/**
 * The deployment files run countersign with options and environment variables that
 * exist: each command line is checked against the built CLI's `--help` (build first),
 * and each variable against what the source reads.
 */
import { describe, expect, it } from 'vitest';
import { composeServices, countersignContainers, k8sObjects, podSpec } from './files.js';
import {
  countersignVariablesRead,
  helpUsage,
  invocations,
  usageProblems,
  type Invocation,
} from './usage.js';

/** Variables for countersign containers that other software reads, and which. */
const OTHER_VARIABLES: Readonly<Record<string, string>> = {
  PGPASSWORD: 'node-postgres: the password for a database URL without one',
  NODE_ENV: 'Node.js libraries: production behaviour',
};

/** Variables whose values are secrets: never written into a deployment file. */
const SECRET_VARIABLES = ['COUNTERSIGN_KEK', 'COUNTERSIGN_TOKEN', 'PGPASSWORD'];

const all = invocations();
const named = all.map((inv) => [inv.where, inv] as [string, Invocation]);

describe('deployment command lines', () => {
  const global = helpUsage([]);

  it('include the Dockerfile, both compose nodes and migrate, and every Kubernetes container', () => {
    expect(all.map((i) => i.args[0])).toEqual(
      expect.arrayContaining(['serve', 'migrate', 'admission']),
    );
    // Dockerfile, compose migrate + 2 nodes, k8s migrate + server + admission
    expect(all).toHaveLength(7);
  });

  describe('when checked against the usage of the command they run', () => {
    it.each(named)('%s uses only options that command has, each as it takes them', (_, inv) => {
      const [command] = inv.args;
      expect(command, 'a command line starts with the command').toMatch(/^[a-z]/);
      expect(usageProblems(inv.args, global, helpUsage([command!]))).toEqual([]);
    });
  });

  describe('when an option is misspelt, loses its value or a required one is missing', () => {
    const serve = helpUsage(['serve']);
    const admission = helpUsage(['admission']);

    it('reports each, so the check above can fail', () => {
      expect(usageProblems(['serve', '--hots', '0.0.0.0'], global, serve)).toEqual([
        'unknown option --hots',
        'unexpected argument 0.0.0.0',
      ]);
      expect(usageProblems(['serve', '--config', '--dev'], global, serve)).toEqual([
        '--config needs a value',
      ]);
      expect(usageProblems(['serve', '--dev=yes'], global, serve)).toEqual([
        '--dev takes no value',
      ]);
      expect(
        usageProblems(['admission', '--tls-cert', 'c', '--tls-key', 'k'], global, admission),
      ).toEqual(['--cluster is required']);
    });
  });
});

describe('deployment environment variables', () => {
  const read = countersignVariablesRead();

  it('are found in the source for the ones the README documents', () => {
    // The scan must see the variables the server and CLI read, or the next test is empty.
    for (const name of ['COUNTERSIGN_DATABASE_URL', 'COUNTERSIGN_KEK_FILE', 'COUNTERSIGN_TOKEN']) {
      expect(read).toContain(name);
    }
  });

  describe('when set for a countersign process', () => {
    it.each(named)('%s sets only variables something reads', (_, inv) => {
      const unknown = Object.keys(inv.env).filter((name) =>
        name.startsWith('COUNTERSIGN_') ? !read.has(name) : !(name in OTHER_VARIABLES),
      );
      expect(unknown).toEqual([]);
    });
  });

  describe('when the value is a secret', () => {
    it('comes from a required variable in the compose file, never a default or a literal', () => {
      for (const [name, svc] of Object.entries(composeServices())) {
        for (const [variable, value] of Object.entries(svc.environment ?? {})) {
          if (!SECRET_VARIABLES.includes(variable)) continue;
          expect(value, `${name} ${variable}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
        }
      }
    });

    it('comes from a Secret in the Kubernetes manifests, as does the database URL', () => {
      for (const o of k8sObjects().filter((x) => x.kind === 'Deployment')) {
        for (const c of countersignContainers(podSpec(o))) {
          for (const e of c.env ?? []) {
            if (![...SECRET_VARIABLES, 'COUNTERSIGN_DATABASE_URL'].includes(e.name)) continue;
            expect(e.value, `${o.metadata.name}/${c.name} ${e.name}`).toBeUndefined();
            expect(e.valueFrom?.secretKeyRef?.name).toMatch(/^countersign-/);
          }
        }
      }
    });
  });
});
