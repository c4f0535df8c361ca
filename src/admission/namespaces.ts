/**
 * Where the webhook learns a namespace's labels: an AdmissionReview names the namespace
 * but does not carry its labels. In a cluster, the Kubernetes API (read with the pod's
 * service account, cached briefly); outside one, or pinned by an operator, a file.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { parseYamlText } from '../core/yaml.js';

export interface NamespaceLabels {
  /** The namespace's labels, or null when they cannot be read. */
  labels(namespace: string): Promise<Readonly<Record<string, string>> | null>;
}

type LabelMap = Readonly<Record<string, Readonly<Record<string, string>>>>;

const isLabels = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === 'string');

/**
 * A file mapping each namespace to its labels (YAML or JSON):
 * `{ payments: { countersign.io/protected: "true", countersign.io/environment: prod } }`.
 */
export function namespacesFromFile(path: string): NamespaceLabels {
  const doc: unknown = parseYamlText(readFileSync(path, 'utf8'));
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error(`${path}: expected a map of namespace to labels`);
  }
  // No prototype: a namespace named __proto__ is a key like any other.
  const map: Record<string, Readonly<Record<string, string>>> = Object.create(null) as Record<
    string,
    Readonly<Record<string, string>>
  >;
  for (const [ns, labels] of Object.entries(doc)) {
    if (!isLabels(labels)) throw new Error(`${path}: the labels of ${ns} must be strings`);
    map[ns] = labels;
  }
  return fixedNamespaces(map);
}

export function fixedNamespaces(map: LabelMap): NamespaceLabels {
  // Own keys only: a namespace named `constructor` must not read Object's.
  return { labels: (ns) => Promise.resolve(Object.hasOwn(map, ns) ? (map[ns] ?? null) : null) };
}

export interface ApiServerOptions {
  /** e.g. `https://kubernetes.default.svc`. */
  readonly url: string;
  readonly token: () => string;
  /** PEM of the CA that signed the API server's certificate. */
  readonly ca: string;
  readonly ttlMs?: number;
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** The paths a pod's service account is mounted at. */
export const IN_CLUSTER = {
  url: 'https://kubernetes.default.svc',
  token: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  ca: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
} as const;

/**
 * Labels read from the API server (`GET /api/v1/namespaces/<name>`, which the webhook's
 * ClusterRole must allow), cached for `ttlMs`. A failed read is not cached and answers
 * null, which the plan treats as protected with no environment: it refuses.
 */
export class ApiServerNamespaces implements NamespaceLabels {
  readonly #cache = new Map<string, { labels: Record<string, string>; until: number }>();
  constructor(private readonly opts: ApiServerOptions) {}

  async labels(namespace: string): Promise<Record<string, string> | null> {
    const now = (this.opts.now ?? Date.now)();
    const hit = this.#cache.get(namespace);
    if (hit && hit.until > now) return hit.labels;
    const ns = await this.#get(`/api/v1/namespaces/${encodeURIComponent(namespace)}`);
    const labels = (ns as { metadata?: { labels?: unknown } } | null)?.metadata?.labels ?? {};
    if (ns === null || !isLabels(labels)) return null;
    this.#cache.set(namespace, { labels, until: now + (this.opts.ttlMs ?? 30_000) });
    return labels;
  }

  #get(path: string): Promise<unknown> {
    return new Promise((resolve) => {
      const req = request(
        new URL(path, this.opts.url),
        {
          ca: this.opts.ca,
          headers: { authorization: `Bearer ${this.opts.token()}`, accept: 'application/json' },
          timeout: this.opts.timeoutMs ?? 2_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve(res.statusCode === 200 ? JSON.parse(Buffer.concat(chunks).toString()) : null);
            } catch {
              resolve(null);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(null));
      req.end();
    });
  }
}
