/**
 * The deployment files as the deploy tests read them: every YAML document, the
 * Kubernetes objects, the compose services and the Dockerfile's stages. Parsing is
 * strict: a YAML error or warning, or a duplicate key, fails the test that loads it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers/server.js';

export const DEPLOY_DIR = join(ROOT, 'deploy');
export const K8S_DIR = join(DEPLOY_DIR, 'kubernetes');
export const COMPOSE_FILE = join(ROOT, 'docker-compose.yml');
export const DOCKERFILE = join(ROOT, 'Dockerfile');

/** The image name the Kubernetes manifests use (kustomization.yaml's `images` rewrites it). */
export const K8S_IMAGE = 'countersign';
/** The image the compose file builds. */
export const COMPOSE_IMAGE = 'countersign:local';

/** Every YAML file of the deployment: the compose file and all under deploy/. */
export function yamlFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory()
        ? walk(join(dir, e.name))
        : /\.ya?ml$/.test(e.name)
          ? [join(dir, e.name)]
          : [],
    );
  return [COMPOSE_FILE, ...walk(DEPLOY_DIR)];
}

export const rel = (path: string): string => relative(ROOT, path);

/** The documents of a YAML file (a stream may hold several), refusing any error or warning. */
export function yamlDocs(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { uniqueKeys: true });
  if (!Array.isArray(docs)) return []; // an empty stream
  for (const d of docs) {
    const problem = d.errors[0] ?? d.warnings[0];
    if (problem) throw new Error(`${rel(path)}: ${problem.message}`);
  }
  return docs.map((d) => d.toJS() as unknown);
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string } };
}

export interface VolumeMount {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly?: boolean;
}

export interface Probe {
  readonly httpGet?: { readonly path: string; readonly port: string | number; scheme?: string };
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
  readonly volumeMounts?: readonly VolumeMount[];
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
}

export interface Volume {
  readonly name: string;
  readonly configMap?: { readonly name: string };
  readonly secret?: {
    readonly secretName: string;
    readonly items?: readonly { readonly key: string; readonly path: string }[];
  };
  readonly emptyDir?: object;
}

export interface PodSpec {
  readonly serviceAccountName?: string;
  readonly securityContext?: { readonly runAsNonRoot?: boolean; readonly runAsUser?: number };
  readonly initContainers?: readonly Container[];
  readonly containers: readonly Container[];
  readonly volumes?: readonly Volume[];
}

export interface K8sObject {
  readonly file: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  // Each test narrows the parts of a kind it reads.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are arbitrary YAML
  readonly [field: string]: any;
}

/** The Kubernetes objects of every manifest in deploy/kubernetes/ (not its config/). */
export function k8sObjects(): K8sObject[] {
  return readdirSync(K8S_DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) =>
      yamlDocs(join(K8S_DIR, f)).map((d) => ({ ...(d as object), file: f }) as K8sObject),
    );
}

/** The one object of a kind and name, or a failure naming what is missing. */
export function k8sObject(kind: string, name: string): K8sObject {
  const found = k8sObjects().filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0]!;
}

export const podSpec = (deployment: K8sObject): PodSpec =>
  (deployment.spec as { template: { spec: PodSpec } }).template.spec;

/** The pod's containers and init containers that run the countersign image. */
export const countersignContainers = (pod: PodSpec): Container[] =>
  [...(pod.initContainers ?? []), ...pod.containers].filter((c) => c.image === K8S_IMAGE);

export interface ComposeService {
  readonly image?: string;
  readonly build?: unknown;
  readonly command?: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  readonly volumes?: readonly string[];
  readonly ports?: readonly string[];
  readonly depends_on?: Readonly<Record<string, { readonly condition: string }>>;
  readonly healthcheck?: { readonly test?: readonly string[]; readonly disable?: boolean };
  readonly restart?: string;
}

/** The compose file's services, as written (before `${…}` interpolation). */
export function composeServices(): Readonly<Record<string, ComposeService>> {
  const [doc] = yamlDocs(COMPOSE_FILE) as [{ services: Record<string, ComposeService> }];
  return doc.services;
}

/** Which host folder a container path of a compose service lies in, through its binds. */
export function composeHostPath(service: ComposeService, containerPath: string): string | null {
  for (const bind of service.volumes ?? []) {
    const [source, target] = bind.split(':') as [string, string | undefined];
    if (!target || !source.startsWith('.')) continue;
    if (containerPath === target || containerPath.startsWith(`${target}/`)) {
      return join(ROOT, source, containerPath.slice(target.length));
    }
  }
  return null;
}

export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
}

export interface DockerStage {
  readonly from: string;
  readonly name: string | null;
  readonly instructions: readonly DockerInstruction[];
}

/** The Dockerfile's stages: continuation lines joined, comments dropped. */
export function dockerStages(): DockerStage[] {
  const lines: string[] = [];
  let pending = '';
  for (const raw of readFileSync(DOCKERFILE, 'utf8').split('\n')) {
    if (/^\s*#/.test(raw)) continue; // comments, also inside a continued instruction
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const whole = (pending + line).trim();
    pending = '';
    if (whole) lines.push(whole);
  }
  const stages: { from: string; name: string | null; instructions: DockerInstruction[] }[] = [];
  for (const line of lines) {
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot read ${line}`);
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!;
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile: cannot read FROM ${args}`);
      stages.push({ from: from[1]!, name: from[2] ?? null, instructions: [] });
    } else if (keyword !== 'ARG' || stages.length > 0) {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile: ${keyword} before the first FROM`);
      stage.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** The JSON (exec) form of an instruction's arguments, e.g. `["node", "x.js"]`. */
export function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
    throw new Error(`not an exec-form list of strings: ${args}`);
  }
  return parsed;
}
