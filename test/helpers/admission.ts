import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { CLI } from './server.js';

export const CLUSTER = 'test-cluster';

export interface TestPki {
  readonly ca: string;
  /** The CA's private key, to sign client certificates with (see {@link clientCertificate}). */
  readonly caKey: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface ClientCertificate {
  readonly cert: string;
  readonly key: string;
}

/** A client certificate `pki`'s CA signed, as the API server's for webhooks would be. */
export async function clientCertificate(
  pki: TestPki,
  name = 'kube-apiserver',
): Promise<ClientCertificate> {
  const leaf = await generate([{ name: 'commonName', value: name }], {
    keySize: 2048,
    algorithm: 'sha256',
    ca: { key: pki.caKey, cert: pki.ca },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return { cert: leaf.cert, key: leaf.private };
}

/**
 * A CA and a serving certificate it signed for 127.0.0.1, as cert-manager would make
 * them: the client trusts the CA alone (the webhook's `caBundle`), never the leaf.
 */
export async function testPki(dir: string): Promise<TestPki> {
  const ca = await generate([{ name: 'commonName', value: 'countersign test CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: 'countersign-admission' }], {
    keySize: 2048,
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(certFile, leaf.cert);
  writeFileSync(keyFile, leaf.private, { mode: 0o600 });
  return { ca: ca.cert, caKey: ca.private, certFile, keyFile };
}

export interface WebhookProcess {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** `countersign admission` as a process on a free loopback port. */
export async function startWebhook(o: {
  readonly pki: TestPki;
  readonly addr: string;
  readonly token: string;
  readonly namespaces: Record<string, Record<string, string>>;
  readonly extraArgs?: string[];
}): Promise<WebhookProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-admission-'));
  const nsFile = join(dir, 'namespaces.json');
  writeFileSync(nsFile, JSON.stringify(o.namespaces));
  const args = [
    ...['admission', '--tls-cert', o.pki.certFile, '--tls-key', o.pki.keyFile],
    ...['--cluster', CLUSTER, '--listen', '127.0.0.1:0', '--namespaces', nsFile],
    ...(o.extraArgs ?? []),
  ];
  const proc: ChildProcess = spawn(process.execPath, [CLI, '--addr', o.addr, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COUNTERSIGN_TOKEN: o.token },
  });
  const chunks: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer) => {
      chunks.push(b.toString());
      const m = /listening on (https:\/\/\S+)/.exec(chunks.join(''));
      if (m) resolve(m[1]!);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`admission exited ${code}: ${chunks.join('')}`)));
  });
  return {
    url,
    output: () => chunks.join(''),
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

export interface ReviewOptions {
  readonly uid?: string;
  readonly operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  readonly kind?: { group: string; version: string; kind: string };
  readonly namespace?: string;
  readonly name?: string;
  readonly warrant?: string;
  readonly data?: Record<string, string>;
  readonly dryRun?: boolean;
}

const SECRET = { group: '', version: 'v1', kind: 'Secret' };
const RESOURCE: Record<string, string> = {
  Secret: 'secrets',
  Deployment: 'deployments',
  RoleBinding: 'rolebindings',
  ConfigMap: 'configmaps',
};

/** An AdmissionReview v1 as the API server sends it for a change to a Secret. */
export function review(o: ReviewOptions = {}) {
  const kind = o.kind ?? SECRET;
  const operation = o.operation ?? 'CREATE';
  const namespace = o.namespace ?? 'shop';
  const name = o.name ?? 'db-creds';
  const object = {
    apiVersion: kind.group === '' ? kind.version : `${kind.group}/${kind.version}`,
    kind: kind.kind,
    metadata: {
      name,
      namespace,
      creationTimestamp: null,
      ...(o.warrant === undefined ? {} : { annotations: { 'countersign.io/warrant': o.warrant } }),
    },
    ...(kind.kind === 'Secret' ? { type: 'Opaque', data: o.data ?? { password: 'c2VjcmV0' } } : {}),
  };
  const gvr = { group: kind.group, version: kind.version, resource: RESOURCE[kind.kind] ?? 'x' };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: o.uid ?? randomUUID(),
      kind,
      resource: gvr,
      requestKind: kind,
      requestResource: gvr,
      name,
      namespace,
      operation,
      userInfo: {
        username: 'kubernetes-admin',
        groups: ['system:masters', 'system:authenticated'],
      },
      object: operation === 'DELETE' ? null : object,
      oldObject: operation === 'CREATE' ? null : object,
      dryRun: o.dryRun ?? false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

export interface ReviewAnswer {
  readonly status: number;
  readonly contentType: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON answers
  readonly body: any;
}

/** POSTs a body to the webhook over HTTPS, trusting only the test CA, as the API server does. */
export function postReview(
  url: string,
  ca: string,
  body: unknown,
  at: {
    readonly method?: string;
    readonly path?: string;
    readonly client?: ClientCertificate;
  } = {},
): Promise<ReviewAnswer> {
  // Text and bytes go as they are: a test may send what JSON.stringify would never write.
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(at.path ?? '/validate?timeout=10s', url),
      {
        method: at.method ?? 'POST',
        ca,
        headers: { 'content-type': 'application/json' },
        ...(at.client === undefined ? {} : { cert: at.client.cert, key: at.client.key }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: text.length > 0 ? (JSON.parse(text) as unknown) : null,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
