/**
 * What a review asks of countersign: pure, from the review, the namespace's labels and
 * the webhook's configuration. A governed change maps to one redemption action:
 *
 *   resource    `k8s/<namespace>/<kind in lower case>/<name>`
 *   permission  the operation in lower case (`create`, `update`, `delete`)
 *   environment the namespace's `countersign.io/environment` label
 *   target      the cluster's configured name
 */
import { canonicalJson } from '../core/canonical.js';
import { sha256Hex } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import type { AdmissionRequest } from './review.js';

export const PROTECTED_LABEL = 'countersign.io/protected';
export const ENVIRONMENT_LABEL = 'countersign.io/environment';
export const WARRANT_ANNOTATION = 'countersign.io/warrant';
/** A compact JWS no longer than a redemption body takes. */
const COMPACT_JWS = /^(?=.{1,16384}$)[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
export const DEFAULT_KINDS: readonly string[] = ['Secret', 'Deployment', 'RoleBinding'];

/** Why the webhook itself refuses a change, before or instead of asking countersign. */
export type AdmissionRefusalCode =
  | 'WARRANT_MISSING'
  | 'WARRANT_MALFORMED'
  | 'ENVIRONMENT_UNLABELLED'
  | 'OBJECT_UNNAMED'
  | 'REVIEW_MALFORMED'
  | 'COUNTERSIGN_UNAVAILABLE';

export interface AdmissionConfig {
  readonly cluster: string;
  /** Kinds (as `kind.kind`, e.g. `Secret`) whose changes need a warrant. */
  readonly kinds: readonly string[];
}

export interface AdmissionAction {
  readonly resource: string;
  readonly permission: string;
  readonly environment: string;
  readonly target: string;
}

/** What to report once a change is admitted (never for a dry run). */
export interface AdmittedChange {
  readonly phase: 'apply' | 'revoke';
  /**
   * `sha256:` of the content admitted, the fulfilment's fingerprint; null for a deletion.
   * A Secret's is its version (its type and data), which the webhook also reports as
   * observed; another kind's covers the object without its `metadata` and `status`.
   */
  readonly fingerprint: string | null;
  readonly secret: boolean;
  readonly detail: string;
}

export type AdmissionPlan =
  | { readonly kind: 'pass'; readonly reason: string }
  | { readonly kind: 'refuse'; readonly code: AdmissionRefusalCode; readonly message: string }
  | {
      readonly kind: 'redeem';
      readonly warrant: string;
      readonly action: AdmissionAction;
      readonly dryRun: boolean;
      /** The review's uid, per cluster: the API server's retries spend one use. */
      readonly idempotencyKey: string;
      readonly change: AdmittedChange;
    };

const refuse = (code: AdmissionRefusalCode, message: string): AdmissionPlan => ({
  kind: 'refuse',
  code,
  message,
});

/** The part of a Secret that is its version: its type and data. */
function secretContent(object: unknown): unknown {
  const o = (object ?? {}) as { type?: unknown; data?: unknown; stringData?: unknown };
  return { type: o.type ?? null, data: o.data ?? {}, stringData: o.stringData ?? {} };
}

/**
 * What another kind's change sets: the object without `metadata` (where the API server
 * writes its own fields, and where the warrant itself rides) and `status`.
 */
function objectContent(object: unknown): unknown {
  const { metadata: _m, status: _s, ...rest } = (object ?? {}) as Record<string, unknown>;
  return rest;
}

/**
 * `content` canonical and hashed: two admissions of the same content give the same
 * fingerprint, whatever order the keys came in. Undefined when JCS cannot hold it (a lone
 * surrogate, too deep), never a guess.
 */
function versionOf(content: unknown): string | undefined {
  try {
    return `sha256:${sha256Hex(canonicalJson(content))}`;
  } catch (e) {
    if (e instanceof CountersignError && e.code === 'NON_CANONICAL_VALUE') return undefined;
    throw e;
  }
}

/**
 * The plan for one review. `labels` are the namespace's labels, or null when they could
 * not be read: the API server only sends reviews from namespaces its selector matched,
 * so an unreadable namespace is treated as protected (and then has no environment).
 */
export function planAdmission(
  req: AdmissionRequest,
  labels: Readonly<Record<string, string>> | null,
  config: AdmissionConfig,
): AdmissionPlan {
  if (req.operation === 'CONNECT') return { kind: 'pass', reason: 'CONNECT is not governed' };
  if (req.subResource) return { kind: 'pass', reason: `subresource ${req.subResource}` };
  if (!config.kinds.includes(req.kind.kind)) {
    return { kind: 'pass', reason: `${req.kind.kind} is not a governed kind` };
  }
  if (labels !== null && labels[PROTECTED_LABEL] !== 'true') {
    return { kind: 'pass', reason: 'the namespace is not protected' };
  }
  // A deletion carries no object: the warrant is the one on the object being deleted.
  const object = req.operation === 'DELETE' ? req.oldObject : req.object;
  const namespace = req.namespace ?? object?.metadata?.namespace;
  const name = req.name || object?.metadata?.name;
  const what = `${req.operation} ${req.kind.kind} ${namespace ?? '?'}/${name ?? '?'}`;
  if (!namespace || !name) {
    return refuse('OBJECT_UNNAMED', `${what}: a governed object needs a namespace and a name`);
  }
  const warrant = object?.metadata?.annotations?.[WARRANT_ANNOTATION];
  if (!warrant) {
    return refuse('WARRANT_MISSING', `${what} needs the annotation ${WARRANT_ANNOTATION}`);
  }
  // countersign records an unreadable redemption even when it is a dry run; a dry run must
  // have no side effects, so one whose warrant cannot be a warrant is refused here.
  if (req.dryRun === true && !COMPACT_JWS.test(warrant)) {
    return refuse('WARRANT_MALFORMED', `${what}: the annotation ${WARRANT_ANNOTATION} is no JWS`);
  }
  const environment = labels?.[ENVIRONMENT_LABEL];
  if (!environment) {
    return refuse(
      'ENVIRONMENT_UNLABELLED',
      `${what}: the namespace has no ${ENVIRONMENT_LABEL} label to name its environment`,
    );
  }
  const resource = `k8s/${namespace}/${req.kind.kind.toLowerCase()}/${name}`;
  const secret = req.kind.kind === 'Secret' && req.kind.group === '';
  const content = secret ? secretContent(req.object) : objectContent(req.object);
  const fingerprint = req.operation === 'DELETE' ? null : versionOf(content);
  if (fingerprint === undefined) {
    return refuse('REVIEW_MALFORMED', `${what}: the object's content cannot be canonicalised`);
  }
  return {
    kind: 'redeem',
    warrant,
    action: {
      resource,
      permission: req.operation.toLowerCase(),
      environment,
      target: config.cluster,
    },
    dryRun: req.dryRun === true,
    idempotencyKey: `k8s:${config.cluster}:${req.uid}`,
    change: {
      phase: req.operation === 'DELETE' ? 'revoke' : 'apply',
      fingerprint,
      secret,
      detail: `admitted ${req.operation} of ${resource} on ${config.cluster} (review ${req.uid})`,
    },
  };
}
