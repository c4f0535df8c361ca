/**
 * The ValidatingWebhookConfiguration's contract with `countersign admission`: what the
 * API server sends, where, how long it waits, and what it does when there is no answer.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_KINDS, PROTECTED_LABEL } from '../../src/admission/plan.js';
import { k8sObject, k8sObjects, podSpec } from './files.js';
import { optionValue } from './usage.js';

/** What the webhook governs by default (`--kinds`), and where the API serves each kind. */
const KIND_RESOURCES: Readonly<Record<string, { group: string; resource: string }>> = {
  Secret: { group: '', resource: 'secrets' },
  Deployment: { group: 'apps', resource: 'deployments' },
  RoleBinding: { group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
};
/** `countersign admission --timeout-ms` when not given (see its --help). */
const DEFAULT_TIMEOUT_MS = 5000;

interface Rule {
  apiGroups: string[];
  apiVersions: string[];
  operations: string[];
  resources: string[];
  scope?: string;
}

interface Webhook {
  name: string;
  admissionReviewVersions: string[];
  clientConfig: {
    url?: string;
    service?: { name: string; namespace: string; path: string; port: number };
  };
  rules: Rule[];
  namespaceSelector: { matchLabels?: Record<string, string> };
  sideEffects: string;
  failurePolicy: string;
  timeoutSeconds: number;
}

const configs = k8sObjects().filter((o) => o.kind === 'ValidatingWebhookConfiguration');
const config = configs[0]!;
const webhooks = config.webhooks as Webhook[];
const args = podSpec(k8sObject('Deployment', 'countersign-admission')).containers.find(
  (c) => c.name === 'admission',
)!.args!;

describe('ValidatingWebhookConfiguration', () => {
  it('is one admissionregistration.k8s.io/v1 configuration with one fully qualified webhook', () => {
    expect(configs).toHaveLength(1);
    expect(config.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(webhooks).toHaveLength(1);
    expect(webhooks[0]!.name.split('.').length).toBeGreaterThanOrEqual(3);
  });

  describe.each(webhooks.map((w) => [w.name, w]))('webhook %s', (_, w) => {
    describe('when the API server chooses what to send', () => {
      it('sends CREATE, UPDATE and DELETE of exactly the kinds the webhook governs', () => {
        const kinds = optionValue(args, '--kinds')?.split(',') ?? DEFAULT_KINDS;
        const expected = kinds.map((k) => {
          const where = KIND_RESOURCES[k];
          expect(where, `where the API serves ${k}`).toBeDefined();
          return `${where!.group}/v1/${where!.resource}`;
        });
        const sent = w.rules.flatMap((r) => {
          expect([...r.operations].sort(), r.resources.join()).toEqual([
            'CREATE',
            'DELETE',
            'UPDATE',
          ]);
          expect(r.scope ?? 'Namespaced').toBe('Namespaced');
          return r.apiGroups.flatMap((g) =>
            r.apiVersions.flatMap((v) => r.resources.map((res) => `${g}/${v}/${res}`)),
          );
        });
        expect(sent.sort()).toEqual(expected.sort());
      });

      it('sends only what happens in namespaces labelled countersign.io/protected: "true"', () => {
        expect(w.namespaceSelector).toEqual({
          matchLabels: { [PROTECTED_LABEL]: 'true' },
        });
      });

      it('speaks AdmissionReview v1 only', () => {
        expect(w.admissionReviewVersions).toEqual(['v1']);
      });
    });

    describe('when the API server calls it', () => {
      it("reaches the admission Service's /validate on the Service's port", () => {
        expect(w.clientConfig.url).toBeUndefined();
        const svc = k8sObject('Service', w.clientConfig.service!.name);
        expect(w.clientConfig.service).toEqual({
          name: svc.metadata.name,
          namespace: svc.metadata.namespace,
          path: '/validate',
          port: (svc.spec.ports as { port: number }[])[0]!.port,
        });
      });

      it("trusts the CA of the webhook's serving certificate, injected by cert-manager", () => {
        const ref = config.metadata.annotations?.['cert-manager.io/inject-ca-from'];
        const [namespace, name] = (ref ?? '/').split('/');
        const cert = k8sObject('Certificate', name!);
        expect(cert.metadata.namespace).toBe(namespace);
        expect(cert.metadata.namespace).toBe(w.clientConfig.service!.namespace);
      });
    });

    describe('when it cannot answer, or answers a dry run', () => {
      it('refuses the change (failurePolicy: Fail)', () => {
        expect(w.failurePolicy).toBe('Fail');
      });

      it('has side effects only outside dry runs (sideEffects: NoneOnDryRun)', () => {
        expect(w.sideEffects).toBe('NoneOnDryRun');
      });

      it("gives up after at most 10 s, later than the webhook's own --timeout-ms", () => {
        const timeoutMs = Number(optionValue(args, '--timeout-ms') ?? DEFAULT_TIMEOUT_MS);
        expect(timeoutMs).toBeGreaterThanOrEqual(100);
        expect(timeoutMs).toBeLessThanOrEqual(25_000);
        expect(w.timeoutSeconds).toBeLessThanOrEqual(10);
        expect(w.timeoutSeconds).toBeGreaterThan(timeoutMs / 1000);
      });
    });
  });
});
