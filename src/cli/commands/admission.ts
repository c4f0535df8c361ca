import { existsSync, readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { CommandContext } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { wholeNumber, wholeNumberArg } from '../whole-number.js';

const CLUSTER = /^[A-Za-z0-9._-]{1,100}$/;
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;

function listenArg(v: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(v);
  const port = m ? wholeNumber(m[2] ?? '', 0, 65535) : undefined;
  if (!m || port === undefined) {
    throw new InvalidArgumentError('expected <host>:<port>, e.g. 0.0.0.0:8443');
  }
  return { host: (m[1] ?? '').replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port };
}

function clusterArg(v: string): string {
  if (!CLUSTER.test(v)) throw new InvalidArgumentError('letters, digits, ".", "_" and "-" only');
  return v;
}

/** A comma-separated list whose every item passes `ok`. */
function listArg(v: string, ok: (item: string) => boolean, example: string): string[] {
  const items = v.split(',').map((n) => n.trim());
  if (!items.every(ok)) throw new InvalidArgumentError(`a comma-separated list of ${example}`);
  return items;
}

const namesArg = (v: string): string[] =>
  listArg(v, (n) => n.length > 0 && n.length <= 253, 'names, e.g. kube-apiserver');

const kindsArg = (v: string): string[] =>
  listArg(v, (k) => KIND.test(k), 'kinds, e.g. Secret,Deployment');

// The API server waits at most 30 s; leave room for the namespace read and the answer.
const timeoutArg = wholeNumberArg(100, 25_000, 'from 100 to 25000 ms');

interface AdmissionFlags {
  listen: { host: string; port: number };
  tlsCert: string;
  tlsKey: string;
  clientCa?: string;
  clientName?: string[];
  cluster: string;
  kinds: string[];
  timeoutMs: number;
  namespaces?: string;
}

export function admissionCommand(program: Command, cx: CommandContext): void {
  program
    .command('admission')
    .description(
      'Kubernetes validating admission webhook: changes in protected namespaces redeem a warrant',
    )
    .requiredOption('--tls-cert <file>', 'PEM certificate the webhook serves')
    .requiredOption('--tls-key <file>', 'PEM private key of that certificate')
    .option(
      '--client-ca <file>',
      "PEM CAs of the API server's client certificate: reviews from any other caller are refused",
    )
    .option(
      '--client-name <list>',
      "names the API server's client certificate may carry (its CN or a DNS name): with --client-ca, any other is refused",
      namesArg,
    )
    .requiredOption(
      '--cluster <name>',
      "this cluster's name: the target of every action",
      clusterArg,
    )
    .option(
      '--listen <host:port>',
      'HTTPS address to listen on',
      listenArg,
      listenArg('0.0.0.0:8443'),
    )
    .option('--kinds <list>', 'kinds whose changes need a warrant', kindsArg, [
      'Secret',
      'Deployment',
      'RoleBinding',
    ])
    .option(
      '--timeout-ms <ms>',
      "most a review may wait for countersign's answer",
      timeoutArg,
      5000,
    )
    .option(
      '--namespaces <file>',
      'namespace labels from a file (YAML: namespace → labels) instead of the Kubernetes API',
    )
    .action(async (o: AdmissionFlags) => {
      if (o.clientName !== undefined && o.clientCa === undefined) {
        throw new CliError(
          '--client-name names certificates of --client-ca: give both',
          EXIT.usage,
        );
      }
      const { admissionApp } = await import('../../admission/webhook.js');
      const { AdmissionReports } = await import('../../admission/reports.js');
      const ns = await import('../../admission/namespaces.js');
      let namespaces;
      try {
        namespaces = o.namespaces
          ? ns.namespacesFromFile(o.namespaces)
          : inCluster(ns.IN_CLUSTER, (opts) => new ns.ApiServerNamespaces(opts));
      } catch (e) {
        throw new CliError((e as Error).message, EXIT.usage);
      }
      const client = cx.client();
      // Reports are sent only after a review was answered, by which time `app` exists.
      const reports = new AdmissionReports(client, o.cluster, {
        warn: (fields, message) => app.log.warn(fields, message),
      });
      const app = admissionApp({
        config: { cluster: o.cluster, kinds: o.kinds },
        client,
        namespaces,
        reports,
        timeoutMs: o.timeoutMs,
        tls: {
          cert: readFileSync(o.tlsCert, 'utf8'),
          key: readFileSync(o.tlsKey, 'utf8'),
          ...(o.clientCa === undefined ? {} : { clientCa: readFileSync(o.clientCa, 'utf8') }),
          ...(o.clientName === undefined ? {} : { clientNames: o.clientName }),
        },
      });
      const url = await app.listen({ host: o.listen.host, port: o.listen.port });
      process.stderr.write(`countersign admission: listening on ${url} for cluster ${o.cluster}\n`);
      const stop = (): void => {
        void app
          .close()
          .then(() => reports.idle())
          .then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** The API server as a pod sees it; outside a cluster, `--namespaces` is required. */
function inCluster<T>(
  paths: { url: string; token: string; ca: string },
  make: (o: { url: string; token: () => string; ca: string }) => T,
): T {
  if (!existsSync(paths.token) || !existsSync(paths.ca)) {
    throw new Error(
      `not in a cluster (no ${paths.token}): give the namespace labels with --namespaces`,
    );
  }
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  return make({
    url: host ? `https://${host.includes(':') ? `[${host}]` : host}:${port}` : paths.url,
    // Projected service account tokens rotate: read the file on each use.
    token: () => readFileSync(paths.token, 'utf8').trim(),
    ca: readFileSync(paths.ca, 'utf8'),
  });
}
