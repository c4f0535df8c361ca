import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServerNamespaces, namespacesFromFile } from '../../src/admission/namespaces.js';
import { testPki, type TestPki } from '../helpers/admission.js';

const dir = mkdtempSync(join(tmpdir(), 'countersign-ns-'));
let pki: TestPki;
let api: Server;
let url: string;
const seen: Array<{ path: string; authorization: string | undefined }> = [];
let labels: Record<string, string> = { 'countersign.io/protected': 'true' };

/** A loopback stand-in for `GET /api/v1/namespaces/<name>`, over TLS from the test CA. */
beforeAll(async () => {
  pki = await testPki(dir);
  api = createServer(
    { cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) },
    (req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      const name = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      if (name === 'missing') res.writeHead(404).end('{"kind":"Status"}');
      else if (name === 'garbled') res.writeHead(200).end('not json');
      else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Namespace', metadata: { name, labels } }));
      }
    },
  );
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(api.address() as { port: number }).port}`;
}, 60_000);

afterAll(() => api?.close());

describe('ApiServerNamespaces', () => {
  let clock = 0;
  const make = () =>
    new ApiServerNamespaces({
      url,
      ca: pki.ca,
      token: () => 'token-1',
      ttlMs: 1_000,
      now: () => clock,
    });

  it('reads the labels with the service account token, trusting only the given CA', async () => {
    const ns = make();
    expect(await ns.labels('payments')).toEqual(labels);
    expect(seen.at(-1)).toEqual({
      path: '/api/v1/namespaces/payments',
      authorization: 'Bearer token-1',
    });
  });

  describe('when the labels were read less than the TTL ago', () => {
    it('answers from its cache, and reads again once the TTL has passed', async () => {
      const ns = make();
      await ns.labels('cached');
      const before = seen.length;
      labels = { 'countersign.io/protected': 'false' };
      expect(await ns.labels('cached')).toEqual({ 'countersign.io/protected': 'true' });
      expect(seen.length).toBe(before);
      clock += 1_001;
      expect(await ns.labels('cached')).toEqual({ 'countersign.io/protected': 'false' });
      labels = { 'countersign.io/protected': 'true' };
    });
  });

  describe('when the namespace cannot be read', () => {
    it('answers null, which the plan treats as protected', async () => {
      const ns = make();
      expect(await ns.labels('missing')).toBeNull();
      expect(await ns.labels('garbled')).toBeNull();
    });

    it('answers null for a server whose certificate the CA did not sign', async () => {
      const other = await testPki(mkdtempSync(join(tmpdir(), 'countersign-ns-other-')));
      const ns = new ApiServerNamespaces({ url, ca: other.ca, token: () => 't' });
      expect(await ns.labels('payments')).toBeNull();
    });
  });
});

describe('namespacesFromFile', () => {
  it('reads a YAML map of namespace to labels', async () => {
    const file = join(dir, 'ns.yaml');
    writeFileSync(
      file,
      'shop:\n  countersign.io/protected: "true"\n  countersign.io/environment: prod\n',
    );
    const ns = namespacesFromFile(file);
    expect(await ns.labels('shop')).toEqual({
      'countersign.io/protected': 'true',
      'countersign.io/environment': 'prod',
    });
    expect(await ns.labels('elsewhere')).toBeNull();
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'knows nothing of a namespace named %s it does not list, so it stays governed',
    async (name) => {
      const file = join(dir, 'one.yaml');
      writeFileSync(file, 'shop:\n  countersign.io/protected: "true"\n');
      expect(await namespacesFromFile(file).labels(name)).toBeNull();
    },
  );

  it('refuses labels that are not strings, naming the namespace', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'shop:\n  countersign.io/protected: true\n');
    expect(() => namespacesFromFile(file)).toThrow(/shop/);
  });
});
