/**
 * Every YAML file of the deployment parses, every manifest is a Kubernetes object, and
 * kustomization.yaml installs all of them but the example.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { K8S_DIR, K8S_IMAGE, k8sObjects, podSpec, rel, yamlDocs, yamlFiles } from './files.js';

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingWebhookConfiguration',
]);
const EXAMPLE = 'example-protected-namespace.yaml';

interface Kustomization {
  resources: string[];
  configMapGenerator: { name: string; namespace: string; files: string[] }[];
  images: { name: string; newName: string; newTag: string }[];
}
const kustomization = () => yamlDocs(join(K8S_DIR, 'kustomization.yaml'))[0] as Kustomization;

describe('deployment YAML', () => {
  describe('when parsed strictly (no errors, warnings or duplicate keys)', () => {
    it('finds the compose file, its config and every Kubernetes manifest', () => {
      const files = yamlFiles().map(rel);
      expect(files).toEqual(
        expect.arrayContaining([
          'docker-compose.yml',
          'deploy/compose/countersign.yaml',
          'deploy/kubernetes/webhook.yaml',
          'deploy/kubernetes/config/policy.yaml',
        ]),
      );
    });

    it.each(yamlFiles().map((f) => [rel(f), f]))('parses %s', (_, file) => {
      const docs = yamlDocs(file);
      expect(docs.length).toBeGreaterThan(0);
      for (const d of docs) expect(typeof d).toBe('object');
    });
  });

  describe('when read as Kubernetes objects', () => {
    it.each(k8sObjects().map((o) => [`${o.file} ${o.kind} ${o.metadata?.name}`, o]))(
      '%s has an apiVersion, a kind, a name and, if namespaced, a namespace',
      (_, o) => {
        expect(o.apiVersion).toMatch(/^([a-z0-9.-]+\/)?v\d+(beta\d+)?$/);
        expect(o.kind).toMatch(/^[A-Z]\w+$/);
        expect(o.metadata.name).toMatch(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/);
        if (CLUSTER_SCOPED.has(o.kind)) expect(o.metadata.namespace).toBeUndefined();
        else expect(o.metadata.namespace).toMatch(/^[a-z0-9-]+$/);
      },
    );

    it('name each object once', () => {
      const ids = k8sObjects().map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  describe('when kustomization.yaml is applied', () => {
    it('installs every manifest but the example, and names only files that exist', () => {
      const manifests = readdirSync(K8S_DIR).filter(
        (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml' && f !== EXAMPLE,
      );
      expect([...kustomization().resources].sort()).toEqual(manifests.sort());
    });

    it('makes the server ConfigMap from config/ files that exist', () => {
      const [gen] = kustomization().configMapGenerator;
      expect(gen?.name).toBe('countersign-config');
      for (const f of gen!.files) expect(existsSync(join(K8S_DIR, f)), f).toBe(true);
    });

    it('sets the image of every countersign container', () => {
      expect(kustomization().images.map((i) => i.name)).toEqual([K8S_IMAGE]);
      const images = k8sObjects()
        .filter((o) => o.kind === 'Deployment')
        .flatMap((o) => {
          const pod = podSpec(o);
          return [...(pod.initContainers ?? []), ...pod.containers].map((c) => c.image);
        });
      expect(images.length).toBeGreaterThan(0);
      expect(new Set(images)).toEqual(new Set([K8S_IMAGE]));
    });
  });
});
