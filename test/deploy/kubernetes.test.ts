/**
 * The Kubernetes manifests cannot be applied here (no cluster): what ties them together
 * is checked instead. Each name, port, path and label one object relies on is the one
 * another object defines, and the server configuration loads as the server loads it.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ENVIRONMENT_LABEL,
  PROTECTED_LABEL,
  WARRANT_ANNOTATION,
} from '../../src/admission/plan.js';
import { ROUTE_ROLES } from '../../src/http/authz.js';
import { matchRule } from '../../src/policy/match.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { loadConfigFile } from '../../src/server/config.js';
import { expectCode } from '../helpers/expect-code.js';
import {
  dockerStages,
  K8S_DIR,
  k8sObject,
  k8sObjects,
  podSpec,
  yamlDocs,
  type Container,
  type K8sObject,
  type PodSpec,
} from './files.js';
import { optionValue } from './usage.js';

const NS = 'countersign';
const server = k8sObject('Deployment', 'countersign');
const admission = k8sObject('Deployment', 'countersign-admission');
const container = (d: K8sObject, name: string): Container =>
  podSpec(d).containers.find((c) => c.name === name)!;

/** The file a container path resolves to: the volume mounted there and the path inside it. */
function mounted(pod: PodSpec, c: Container, path: string) {
  const mount = c.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
  const volume = pod.volumes?.find((v) => v.name === mount?.name);
  return { volume, inside: mount ? path.slice(mount.mountPath.length + 1) : undefined };
}

/** The Service that selects a Deployment's pods, and the container port it forwards to. */
function serviceFor(d: K8sObject, c: Container) {
  const labels = (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template
    .metadata.labels;
  const services = k8sObjects().filter(
    (o) =>
      o.kind === 'Service' &&
      Object.entries(o.spec.selector as Record<string, string>).every(([k, v]) => labels[k] === v),
  );
  expect(services, `one Service selects ${d.metadata.name}`).toHaveLength(1);
  const svc = services[0]!;
  const [port] = svc.spec.ports as { port: number; targetPort: string | number }[];
  const target = c.ports?.find(
    (p) => p.name === port!.targetPort || p.containerPort === port!.targetPort,
  );
  return { svc, port: port!.port, containerPort: target?.containerPort };
}

/** The server config as shipped, and a copy with its placeholder hash replaced. */
const CONFIG = join(K8S_DIR, 'config', 'countersign.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'countersign-k8s-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function filledConfig(): string {
  const text = readFileSync(CONFIG, 'utf8').replace(
    /tokenSha256: REPLACE\S*/,
    `tokenSha256: ${'ab'.repeat(32)}`,
  );
  writeFileSync(join(tmp, 'countersign.yaml'), text);
  copyFileSync(join(K8S_DIR, 'config', 'policy.yaml'), join(tmp, 'policy.yaml'));
  return join(tmp, 'countersign.yaml');
}

describe('Kubernetes manifests', () => {
  describe('when the server Deployment starts', () => {
    const pod = podSpec(server);
    const c = container(server, 'server');

    it("reads its configuration from the generated ConfigMap, and the config's policy next to it", () => {
      const { volume, inside } = mounted(pod, c, optionValue(c.args!, '--config')!);
      expect(volume?.configMap?.name).toBe('countersign-config');
      const files = (
        yamlDocs(join(K8S_DIR, 'kustomization.yaml'))[0] as {
          configMapGenerator: { files: string[] }[];
        }
      ).configMapGenerator[0]!.files.map((f) => f.split('/').at(-1));
      expect(files).toContain(inside);
      expect(loadConfigFile(filledConfig()).policyFile).toBe(join(tmp, 'policy.yaml'));
      expect(files).toContain('policy.yaml');
    });

    it('takes the KEK from a file in the Secret countersign-kek', () => {
      const kekFile = c.env?.find((e) => e.name === 'COUNTERSIGN_KEK_FILE')?.value;
      const { volume, inside } = mounted(pod, c, kekFile!);
      expect(volume?.secret?.secretName).toBe('countersign-kek');
      expect(volume?.secret?.items?.map((i) => i.path)).toContain(inside);
    });

    it('migrates first, with the same database URL', () => {
      const [init] = pod.initContainers ?? [];
      expect(init?.args).toEqual(['migrate']);
      const url = (x: Container) => x.env?.find((e) => e.name === 'COUNTERSIGN_DATABASE_URL');
      expect(url(init!)).toEqual(url(c));
    });

    it('is probed for readiness on /readyz and for liveness on /healthz', () => {
      expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    });

    it('listens on all interfaces, behind a Service on its port', () => {
      expect(optionValue(c.args!, '--host')).toBe('0.0.0.0');
      expect(serviceFor(server, c).containerPort).toBe(8470);
    });
  });

  describe('when the server configuration is loaded', () => {
    it('refuses the placeholder token hash, so it cannot be deployed unreplaced', () => {
      expectCode(() => loadConfigFile(CONFIG), 'CONFIG_INVALID');
    });

    it('gives the admission principal every route the webhook calls, and only workload roles', () => {
      const principal = loadConfigFile(filledConfig()).principals?.find(
        (p) => p.id === 'k8s-admission',
      );
      expect(principal?.roles).toEqual(expect.arrayContaining(['executor', 'observer']));
      expect(principal?.roles.every((r) => r === 'executor' || r === 'observer')).toBe(true);
      for (const route of [
        'POST /v1/redemptions',
        'POST /v1/fulfilments',
        'POST /v1/observations',
      ] as const) {
        const granted = ROUTE_ROLES[route] as readonly string[];
        expect(
          principal!.roles.some((r) => granted.includes(r)),
          route,
        ).toBe(true);
      }
    });
  });

  describe('when the admission webhook starts', () => {
    const pod = podSpec(admission);
    const c = container(admission, 'admission');

    it('serves the certificate cert-manager issues for its Service', () => {
      const cert = k8sObject('Certificate', 'countersign-admission');
      for (const flag of ['--tls-cert', '--tls-key']) {
        const { volume, inside } = mounted(pod, c, optionValue(c.args!, flag)!);
        expect(volume?.secret?.secretName, flag).toBe(cert.spec.secretName);
        expect(['tls.crt', 'tls.key'], flag).toContain(inside);
      }
      const { svc } = serviceFor(admission, c);
      expect(cert.spec.dnsNames).toContain(`${svc.metadata.name}.${svc.metadata.namespace}.svc`);
    });

    it('is reached by its Service on the port it listens on', () => {
      const listen = optionValue(c.args!, '--listen') ?? '0.0.0.0:8443';
      expect(serviceFor(admission, c).containerPort).toBe(Number(listen.split(':').at(-1)));
      expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/healthz', scheme: 'HTTPS' });
    });

    it('calls the server through its Service, with a token from a Secret', () => {
      const { svc, port } = serviceFor(server, container(server, 'server'));
      const addr = c.env?.find((e) => e.name === 'COUNTERSIGN_ADDR')?.value;
      expect(addr).toBe(`http://${svc.metadata.name}.${svc.metadata.namespace}.svc:${port}`);
      const token = c.env?.find((e) => e.name === 'COUNTERSIGN_TOKEN');
      expect(token?.valueFrom?.secretKeyRef?.name).toBe('countersign-admission-token');
    });

    it('may read namespaces, and its ServiceAccount nothing else', () => {
      const binding = k8sObjects().filter(
        (o) =>
          o.kind === 'ClusterRoleBinding' &&
          (o.subjects as { name: string; namespace: string }[]).some(
            (s) => s.name === pod.serviceAccountName && s.namespace === NS,
          ),
      );
      expect(binding).toHaveLength(1);
      const role = k8sObject('ClusterRole', binding[0]!.roleRef.name as string);
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      ]);
    });

    it('is issued by a CA that cert-manager makes for it', () => {
      const cert = k8sObject('Certificate', 'countersign-admission');
      const issuer = k8sObject('Issuer', cert.spec.issuerRef.name as string);
      const ca = k8sObjects().find(
        (o) => o.kind === 'Certificate' && o.spec.secretName === issuer.spec.ca?.secretName,
      );
      expect(ca?.spec.isCA).toBe(true);
    });
  });

  describe('when a pod runs', () => {
    it("runs as the image's non-root user, without privilege escalation", () => {
      const user = dockerStages()
        .at(-1)!
        .instructions.find((i) => i.keyword === 'USER')!.args;
      const uid = Number(user.split(':')[0]);
      expect(uid).toBeGreaterThan(0);
      for (const d of [server, admission]) {
        const pod = podSpec(d);
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: uid });
        for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
          expect(c, `${d.metadata.name}/${c.name}`).toMatchObject({
            securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true },
          });
        }
      }
    });
  });

  describe('when namespaces are labelled', () => {
    it("leaves countersign's own namespace unprotected", () => {
      expect(k8sObject('Namespace', NS).metadata.labels).not.toHaveProperty(PROTECTED_LABEL);
    });

    it('lets the example Secret be covered by a policy rule in its namespace environment', () => {
      const ns = k8sObject('Namespace', 'payments');
      expect(ns.metadata.labels?.[PROTECTED_LABEL]).toBe('true');
      const env = ns.metadata.labels?.[ENVIRONMENT_LABEL];
      const secret = k8sObject('Secret', 'db-credentials');
      expect(secret.metadata.annotations).toHaveProperty([WARRANT_ANNOTATION]);
      const policy = parsePolicyText(
        readFileSync(join(K8S_DIR, 'config', 'policy.yaml'), 'utf8'),
        'yaml',
      );
      expect(policy.environments).toContain(env);
      const resource = `k8s/${secret.metadata.namespace}/secret/${secret.metadata.name}`;
      const rule = matchRule(policy, {
        environment: env!,
        nhiKind: 'secret',
        action: 'rotate',
        scope: [{ resource, permissions: ['create'] }],
      });
      expect(rule?.name).toBe('k8s-prod');
    });
  });
});
