import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import { sha256Hex } from '../../src/core/crypto.js';
import {
  clientCertificate,
  CLUSTER,
  postReview,
  review,
  startWebhook,
  testPki,
  type ReviewOptions,
  type TestPki,
  type WebhookProcess,
} from '../helpers/admission.js';
import { issueWarrant } from '../helpers/chain.js';
import { query } from '../helpers/db.js';
import { observe, secretVersion, sightings } from '../helpers/observation.js';
import { findingsOf, reconcileNow, subjectOf } from '../helpers/reconcile.js';
import { runCli, TestServer } from '../helpers/server.js';

let s: TestServer;
let pki: TestPki;
let hook: WebhookProcess;

const NAMESPACES = {
  shop: { 'countersign.io/protected': 'true', 'countersign.io/environment': 'staging' },
  sandbox: { 'kubernetes.io/metadata.name': 'sandbox' },
  unlabelled: { 'countersign.io/protected': 'true' },
};

beforeAll(async () => {
  s = await TestServer.start();
  pki = await testPki(mkdtempSync(join(tmpdir(), 'countersign-pki-')));
  hook = await startWebhook({
    pki,
    addr: s.url,
    token: s.tokens['k8s-admission'],
    namespaces: NAMESPACES,
  });
}, 60_000);

afterAll(async () => {
  await hook?.stop();
  await s?.stop();
});

/** A staging warrant for the webhook to change Secret `shop/<name>` on the test cluster. */
const secretWarrant = (name: string, maxUses = 3, permissions = ['create', 'update', 'delete']) =>
  issueWarrant(s, {
    scope: [{ resource: `k8s/shop/secret/${name}`, permissions }],
    executor: 'k8s-admission',
    targets: [CLUSTER],
    maxUses,
  });

const admit = async (o: ReviewOptions) => {
  const r = await postReview(hook.url, pki.ca, review(o));
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
  return r.body.response as {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string };
    auditAnnotations?: Record<string, string>;
    warnings?: string[];
  };
};

const usesOf = (warrantId: string) =>
  query<{ uses: number }>(s.dataDir, 'select uses from warrants where id = ?', warrantId)[0]!.uses;

/** The version the webhook reports for a Secret: its type and data, canonical and hashed. */
const versionOf = (data: Record<string, string>) =>
  `sha256:${sha256Hex(canonicalJson({ type: 'Opaque', data, stringData: {} }))}`;

describe('countersign admission', () => {
  describe('when a change in a protected namespace carries a warrant that covers it', () => {
    it('allows it and names the receipt in the audit annotations', async () => {
      const w = await secretWarrant('db-creds');
      const a = await admit({ uid: 'uid-allow-1', warrant: w.token });
      expect(a).toMatchObject({ uid: 'uid-allow-1', allowed: true });
      expect(a.auditAnnotations).toMatchObject({
        decision: 'allow',
        'warrant-id': w.warrantId,
        use: '1/3',
      });
      expect(a.auditAnnotations!['receipt-id']).toMatch(/^rcp_/);
      expect(usesOf(w.warrantId)).toBe(1);
    });

    it('spends one use for the same uid sent twice, and answers it the same', async () => {
      const w = await secretWarrant('api-key');
      const first = await admit({ uid: 'uid-retry', name: 'api-key', warrant: w.token });
      const again = await admit({ uid: 'uid-retry', name: 'api-key', warrant: w.token });
      expect(again).toEqual(first);
      expect(usesOf(w.warrantId)).toBe(1);
      const other = await admit({ uid: 'uid-retry-2', name: 'api-key', warrant: w.token });
      expect(other.auditAnnotations?.use).toBe('2/3');
    });

    it('checks a dry run without spending a use', async () => {
      const w = await secretWarrant('dry');
      const a = await admit({ name: 'dry', warrant: w.token, dryRun: true });
      expect(a.allowed).toBe(true);
      expect(a.auditAnnotations).toMatchObject({ decision: 'allow', dryRun: 'true' });
      expect(a.auditAnnotations?.['receipt-id']).toBeUndefined();
      expect(a.warnings?.[0]).toContain('dry run');
      expect(usesOf(w.warrantId)).toBe(0);
      expect((await admit({ name: 'dry', warrant: w.token })).auditAnnotations?.use).toBe('1/3');
    });

    it('maps a DELETE to the delete permission, read from the object being deleted', async () => {
      const w = await secretWarrant('old-key', 1, ['delete']);
      const a = await admit({ operation: 'DELETE', name: 'old-key', warrant: w.token });
      expect(a.allowed).toBe(true);
      const refused = await admit({ operation: 'UPDATE', name: 'old-key', warrant: w.token });
      expect(refused.status?.message).toContain('SCOPE_EXCEEDED');
    });
  });

  describe('when a change must be refused', () => {
    it('refuses a governed change with no warrant: WARRANT_MISSING', async () => {
      const a = await admit({ name: 'no-warrant' });
      expect(a.allowed).toBe(false);
      expect(a.status).toMatchObject({ code: 403 });
      expect(a.status!.message).toContain('WARRANT_MISSING');
    });

    it('refuses a warrant for another object: SCOPE_EXCEEDED, nothing spent', async () => {
      const w = await secretWarrant('db-creds-2');
      const a = await admit({ name: 'payments-key', warrant: w.token });
      expect(a).toMatchObject({ allowed: false, status: { code: 403 } });
      expect(a.status!.message).toContain('SCOPE_EXCEEDED');
      expect(usesOf(w.warrantId)).toBe(0);
    });

    it('refuses a spent warrant: WARRANT_EXHAUSTED', async () => {
      const w = await secretWarrant('once', 1);
      expect((await admit({ name: 'once', warrant: w.token })).allowed).toBe(true);
      const a = await admit({ name: 'once', warrant: w.token, data: { password: 'bmV3' } });
      expect(a.allowed).toBe(false);
      expect(a.status!.message).toContain('WARRANT_EXHAUSTED');
    });

    it('refuses a garbled warrant without echoing it', async () => {
      const garbled = 'eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJ4In0.c2lnbmF0dXJl';
      const a = await admit({ name: 'garbled', warrant: garbled });
      expect(a.allowed).toBe(false);
      expect(a.status!.message).not.toContain(garbled);
    });

    it('refuses a protected namespace with no environment label: ENVIRONMENT_UNLABELLED', async () => {
      const w = await secretWarrant('x');
      const a = await admit({ namespace: 'unlabelled', name: 'x', warrant: w.token });
      expect(a.status!.message).toContain('ENVIRONMENT_UNLABELLED');
    });
  });

  describe('when a change is outside what the webhook governs', () => {
    it('lets an unprotected namespace pass without a warrant', async () => {
      expect((await admit({ namespace: 'sandbox', name: 'anything' })).allowed).toBe(true);
    });

    it('lets a kind that is not configured pass', async () => {
      const kind = { group: '', version: 'v1', kind: 'ConfigMap' };
      expect((await admit({ kind, name: 'settings' })).allowed).toBe(true);
    });
  });

  describe('when the review cannot be read', () => {
    it('answers a body that is not JSON with a 400 problem, and keeps serving', async () => {
      const r = await postReview(hook.url, pki.ca, '{"apiVersion":');
      expect(r.status).toBe(400);
      expect(r.contentType).toContain('application/problem+json');
      expect(r.body.code).toBe('REVIEW_MALFORMED');
      expect((await admit({ namespace: 'sandbox' })).allowed).toBe(true);
    });

    it('answers JSON that is no AdmissionReview with a 400 problem', async () => {
      for (const body of [
        {},
        [],
        { apiVersion: 'admission.k8s.io/v1beta1', request: { uid: 'u' } },
      ]) {
        const r = await postReview(hook.url, pki.ca, body);
        expect(r.status).toBe(400);
        expect(r.body.code).toBe('REVIEW_MALFORMED');
      }
    });

    it('refuses a review that reads two ways, duplicate keys or bytes that are not UTF-8, and spends nothing', async () => {
      const w = await secretWarrant('twice', 1);
      const text = JSON.stringify(review({ uid: 'uid-dup', name: 'twice', warrant: w.token }));
      const bodies: [Buffer | string, string][] = [
        [
          text.replace('"uid":"uid-dup"', '"uid":"uid-dup","uid":"uid-other"'),
          'DUPLICATE_JSON_KEY',
        ],
        [
          text.replace('"password":"c2VjcmV0"', '"password":"c2VjcmV0","password":"b3RoZXI="'),
          'DUPLICATE_JSON_KEY',
        ],
        [
          Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from(',"x":"\xff"}', 'latin1')]),
          'INVALID_UTF8',
        ],
        [text.replace('"c2VjcmV0"', '"\\ud800"'), 'LONE_SURROGATE'],
      ];
      for (const [body, why] of bodies) {
        const r = await postReview(hook.url, pki.ca, body);
        expect(r.status).toBe(400);
        expect(r.contentType).toContain('application/problem+json');
        expect(r.body).toMatchObject({ code: 'REVIEW_MALFORMED' });
        expect(r.body.detail).toContain(why);
        expect(JSON.stringify(r.body)).not.toContain(w.token);
      }
      expect(usesOf(w.warrantId)).toBe(0);
      // The same review read one way is admitted, with the use still there to spend.
      expect((await admit({ uid: 'uid-dup', name: 'twice', warrant: w.token })).allowed).toBe(true);
    });

    it('answers an unknown route with a 404 problem', async () => {
      const r = await postReview(hook.url, pki.ca, '', { method: 'GET', path: '/validate' });
      expect(r.status).toBe(404);
      expect(r.contentType).toContain('application/problem+json');
      expect(r.body).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    });

    it('refuses, in the review, a v1 review whose request is malformed', async () => {
      const body = review({ uid: 'uid-malformed' }) as { request: Record<string, unknown> };
      body.request.operation = 'PATCH';
      const r = await postReview(hook.url, pki.ca, body);
      expect(r.status).toBe(200);
      expect(r.body.response).toMatchObject({
        uid: 'uid-malformed',
        allowed: false,
        status: { code: 400 },
      });
      expect(r.body.response.status.message).toContain('REVIEW_MALFORMED');
    });
  });

  describe('when countersign does not answer', () => {
    it('refuses with COUNTERSIGN_UNAVAILABLE inside its timeout', async () => {
      const { createServer } = await import('node:net');
      const silent = createServer(() => undefined); // accepts, never answers
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const port = (silent.address() as { port: number }).port;
      const stalled = await startWebhook({
        pki,
        addr: `http://127.0.0.1:${port}`,
        token: s.tokens['k8s-admission'],
        namespaces: NAMESPACES,
        extraArgs: ['--timeout-ms', '300'],
      });
      try {
        const r = await postReview(stalled.url, pki.ca, review({ warrant: 'w.x.y' }));
        expect(r.body.response).toMatchObject({ allowed: false, status: { code: 503 } });
        expect(r.body.response.status.message).toContain('COUNTERSIGN_UNAVAILABLE');
      } finally {
        await stalled.stop();
        silent.close();
      }
    });
  });

  describe('when reconciliation runs after admissions', () => {
    it('finds the admitted versions approved and a version changed behind the webhook unapproved', async () => {
      const w = await secretWarrant('rotated', 2, ['create', 'update']);
      const subject = await subjectOf(s, w.requestId);
      const v1 = { password: 'djE=' };
      expect((await admit({ name: 'rotated', warrant: w.token, data: v1 })).allowed).toBe(true);
      await hook.stop(); // a stopping webhook sends its queued reports first
      hook = await startWebhook({
        pki,
        addr: s.url,
        token: s.tokens['k8s-admission'],
        namespaces: NAMESPACES,
      });
      const fulfilled = query<{ target: string; outcome: string; fingerprint: string }>(
        s.dataDir,
        'select target, outcome, fingerprint from fulfilments where request_id = ?',
        w.requestId,
      );
      expect(fulfilled).toEqual([
        { target: CLUSTER, outcome: 'success', fingerprint: versionOf(v1) },
      ]);
      await reconcileNow(s);
      expect(await findingsOf(s, subject)).toEqual([]);

      // kubectl edit by someone whose change skipped the webhook, seen by a collector
      const bypass = versionOf({ password: 'YnlwYXNz' });
      await observe(
        s,
        sightings(subject, [CLUSTER], secretVersion(bypass), new Date().toISOString()),
      );
      await reconcileNow(s);
      const findings = await findingsOf(s, subject);
      expect(findings.map((f) => [f.kind, f.state])).toEqual([['UNAPPROVED_CHANGE', 'open']]);
    });
  });

  describe('when a kind other than Secret is admitted', () => {
    it('records its fulfilment with the fingerprint of what it sets, and observes nothing', async () => {
      const kind = { group: 'apps', version: 'v1', kind: 'Deployment' };
      const w = await issueWarrant(s, {
        scope: [{ resource: 'k8s/shop/deployment/web', permissions: ['create', 'update'] }],
        executor: 'k8s-admission',
        targets: [CLUSTER],
        maxUses: 2,
      });
      expect((await admit({ kind, name: 'web', warrant: w.token })).allowed).toBe(true);
      await hook.stop(); // a stopping webhook sends its queued reports first
      expect(hook.output()).not.toContain('admission report failed');
      hook = await startWebhook({
        pki,
        addr: s.url,
        token: s.tokens['k8s-admission'],
        namespaces: NAMESPACES,
      });
      const content = { apiVersion: 'apps/v1', kind: 'Deployment' };
      expect(
        query(
          s.dataDir,
          'select target, outcome, phase, fingerprint from fulfilments where request_id = ?',
          w.requestId,
        ),
      ).toEqual([
        {
          target: CLUSTER,
          outcome: 'success',
          phase: 'apply',
          fingerprint: `sha256:${sha256Hex(canonicalJson(content))}`,
        },
      ]);
      const subject = await subjectOf(s, w.requestId);
      expect(query(s.dataDir, 'select id from observations where subject = ?', subject)).toEqual(
        [],
      );
    });
  });

  describe("when it takes reviews only from the API server's certificate (--client-ca)", () => {
    it('refuses a review from any other caller before reading it, and spends nothing', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'countersign-client-ca-'));
      const caFile = join(dir, 'client-ca.crt');
      writeFileSync(caFile, pki.ca);
      const strict = await startWebhook({
        pki,
        addr: s.url,
        token: s.tokens['k8s-admission'],
        namespaces: NAMESPACES,
        extraArgs: ['--client-ca', caFile],
      });
      try {
        const w = await secretWarrant('mtls', 1);
        const body = review({ name: 'mtls', warrant: w.token });
        const stranger = await clientCertificate(await testPki(dir), 'mallory');
        for (const client of [undefined, stranger]) {
          const r = await postReview(strict.url, pki.ca, body, client ? { client } : {});
          expect(r.status).toBe(401);
          expect(r.contentType).toContain('application/problem+json');
          expect(r.body).toMatchObject({ code: 'CLIENT_CERTIFICATE_REQUIRED' });
        }
        // Refused before the body is read, so a body that is no JSON says nothing more.
        const unread = await postReview(strict.url, pki.ca, '{"apiVersion":');
        expect([unread.status, (unread.body as { code: string }).code]).toEqual([
          401,
          'CLIENT_CERTIFICATE_REQUIRED',
        ]);
        expect(usesOf(w.warrantId)).toBe(0);
        const apiServer = await clientCertificate(pki);
        const r = await postReview(strict.url, pki.ca, body, { client: apiServer });
        expect(r.body).toMatchObject({ response: { allowed: true } });
        expect(usesOf(w.warrantId)).toBe(1);
        // The kubelet's probe brings no certificate.
        expect(
          (await postReview(strict.url, pki.ca, '', { method: 'GET', path: '/healthz' })).status,
        ).toBe(200);
      } finally {
        await strict.stop();
      }
    });

    it('with --client-name, refuses a certificate of that CA that names someone else', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'countersign-client-name-'));
      const caFile = join(dir, 'client-ca.crt');
      writeFileSync(caFile, pki.ca);
      const named = await startWebhook({
        pki,
        addr: s.url,
        token: s.tokens['k8s-admission'],
        namespaces: NAMESPACES,
        extraArgs: ['--client-ca', caFile, '--client-name', 'kube-apiserver,apiserver-proxy'],
      });
      try {
        const w = await secretWarrant('named', 1);
        const body = review({ name: 'named', warrant: w.token });
        // Signed by the same CA, as a kubelet's or another client's certificate may be.
        const kubelet = await clientCertificate(pki, 'system:node:worker-1');
        const r = await postReview(named.url, pki.ca, body, { client: kubelet });
        expect([r.status, (r.body as { code: string }).code]).toEqual([
          403,
          'CLIENT_CERTIFICATE_NOT_ALLOWED',
        ]);
        expect(usesOf(w.warrantId)).toBe(0);
        const apiServer = await clientCertificate(pki, 'kube-apiserver');
        const ok = await postReview(named.url, pki.ca, body, { client: apiServer });
        expect(ok.body).toMatchObject({ response: { allowed: true } });
        expect(usesOf(w.warrantId)).toBe(1);
      } finally {
        await named.stop();
      }
    });

    it('refuses --client-name without --client-ca, exit 2', async () => {
      const r = await runCli(
        [
          ...['admission', '--tls-cert', pki.certFile, '--tls-key', pki.keyFile],
          ...['--cluster', 'c', '--client-name', 'kube-apiserver'],
        ],
        {},
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--client-ca');
    });
  });

  describe('when it is started outside a cluster without --namespaces', () => {
    it('exits 2, saying where the labels must come from', async () => {
      const r = await runCli(
        ['admission', '--tls-cert', pki.certFile, '--tls-key', pki.keyFile, '--cluster', 'c'],
        {},
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--namespaces');
    });
  });

  it('never writes a warrant into its log', async () => {
    const w = await secretWarrant('logged');
    await admit({ name: 'logged', warrant: w.token });
    await admit({ name: 'other', warrant: w.token });
    expect(hook.output()).not.toContain(w.token);
  });
});
