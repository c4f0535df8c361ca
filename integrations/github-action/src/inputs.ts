import { createHash } from 'node:crypto';

/**
 * The action's inputs, read and checked before anything reaches the network. Pure: the
 * runner's `INPUT_*` variables come in through `read` (core.getInput) and the runner's
 * `GITHUB_*` variables through `env`, so tests read them from plain objects.
 */

/** Why the inputs cannot be used; the message names the input, never its value. */
export type InputErrorCode = 'INPUT_MISSING' | 'INPUT_INVALID';

export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly code: InputErrorCode,
    readonly input: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads one input by its action.yml name; '' when it is not set. */
export type InputReader = (name: string) => string;
export type RunnerEnv = Readonly<Record<string, string | undefined>>;

/** What both steps need to reach the server as this job. */
export interface ConnectionInputs {
  readonly server: URL;
  readonly audience: string;
}

/** The redemption the main step makes. */
export interface MainInputs extends ConnectionInputs {
  readonly warrant: string;
  readonly action: {
    readonly resource: string;
    readonly permission: string;
    readonly environment: string;
    readonly target?: string;
  };
  /** Undefined outside a runner: the redemption is then sent exactly once. */
  readonly idempotencyKey: string | undefined;
}

/** The fulfilment the post step reports. */
export interface PostInputs extends ConnectionInputs {
  readonly target: string;
  readonly jobStatus: string;
  readonly fingerprint: string | undefined;
}

/**
 * Where a step of the job that learns the fingerprint late (it deployed something) leaves
 * it for the post step: `echo "COUNTERSIGN_FINGERPRINT=sha256:…" >> "$GITHUB_ENV"`.
 */
export const FINGERPRINT_ENV = 'COUNTERSIGN_FINGERPRINT';

/** The name the post step reads the receipt back by (the runner passes `STATE_receipt`). */
export const RECEIPT_STATE = 'receipt';

/** The target a fulfilment names when the redemption named none (the server's UNTARGETED). */
export const UNTARGETED = 'default';

const required = (read: InputReader, name: string): string => {
  const value = read(name);
  if (value === '') throw new InputError('INPUT_MISSING', name, `input ${name} is required`);
  return value;
};

const optional = (read: InputReader, name: string): string | undefined => read(name) || undefined;

function connection(read: InputReader): ConnectionInputs {
  const raw = required(read, 'server');
  let server: URL;
  try {
    server = new URL(raw);
  } catch {
    throw new InputError('INPUT_INVALID', 'server', 'input server is not a URL');
  }
  // The job's OIDC token and the warrant travel in the clear over http: only a server on
  // the runner itself (a service container on loopback) may be reached that way.
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(server.hostname);
  if (server.protocol !== 'https:' && !(server.protocol === 'http:' && loopback)) {
    throw new InputError('INPUT_INVALID', 'server', 'input server must be an https URL');
  }
  return { server, audience: read('audience') || 'countersign' };
}

/** The server's idempotency-key alphabet (RedemptionBody in src/http/schemas.ts). */
const KEY_PATTERN = /^[A-Za-z0-9._:/-]{1,200}$/;
/** Job ids and step ids: letters, digits, `-` and `_` (GitHub's rule for `id`s). */
const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Which job of the run a step belongs to, from action.yml's defaults. */
export interface JobRef {
  /** `job.check_run_id`: one per job and attempt; empty where the runner has none (GHES). */
  readonly checkRunId: string;
  /** `strategy.job-index`: the matrix leg. */
  readonly jobIndex: string;
}

/**
 * The default idempotency key: one per step of one job of one run attempt. The server
 * scopes keys by executor, and every job of a repository and environment is the same
 * executor (the token's `sub`), so the key must tell runs, jobs and steps apart. A retry
 * inside the step (the client's, after a lost answer) reuses it and spends nothing; a
 * re-run of the job is a new attempt, so a new use.
 *
 * The job is its check run id where the runner has one; otherwise its id and matrix
 * index, which two callers of one reusable workflow share (there, give
 * `idempotency-key`). Ids map `_` to `.`, which no id contains, so the mapping is
 * one-to-one; what the server's alphabet cannot carry is hashed.
 */
export function defaultIdempotencyKey(env: RunnerEnv, job: JobRef): string | undefined {
  const runId = env.GITHUB_RUN_ID;
  if (!runId) return undefined;
  const attempt = env.GITHUB_RUN_ATTEMPT || '1';
  const jobId = env.GITHUB_JOB ?? '';
  const step = env.GITHUB_ACTION ?? '';
  const parts = /^[0-9]+$/.test(job.checkRunId)
    ? [runId, attempt, job.checkRunId, step]
    : [runId, attempt, jobId, job.jobIndex || '0', step];
  const readable = `gha:${parts.map((p) => p.replaceAll('_', '.')).join(':')}`;
  const idsOk = ID_PATTERN.test(jobId) && (step === '' || ID_PATTERN.test(step));
  if (idsOk && KEY_PATTERN.test(readable)) return readable;
  return `gha:${createHash('sha256').update(parts.join('\n')).digest('hex')}`;
}

/** The main step's inputs. Read the warrant first, so the caller can mask it at once. */
export function readMainInputs(read: InputReader, env: RunnerEnv): MainInputs {
  const warrant = required(read, 'warrant');
  const target = optional(read, 'target');
  const explicitKey = optional(read, 'idempotency-key');
  return {
    ...connection(read),
    warrant,
    action: {
      resource: required(read, 'resource'),
      permission: required(read, 'permission'),
      environment: required(read, 'environment'),
      ...(target === undefined ? {} : { target }),
    },
    idempotencyKey:
      explicitKey ??
      defaultIdempotencyKey(env, { checkRunId: read('check-run-id'), jobIndex: read('job-index') }),
  };
}

/**
 * The post step's inputs. The runner evaluates `job-status` again when the post step
 * runs; the fingerprint is the input, or else what a step of the job exported.
 */
export function readPostInputs(read: InputReader, env: RunnerEnv): PostInputs {
  return {
    ...connection(read),
    target: optional(read, 'target') ?? UNTARGETED,
    jobStatus: read('job-status') || 'unknown',
    fingerprint: optional(read, 'fingerprint') ?? (env[FINGERPRINT_ENV] || undefined),
  };
}

/** The fulfilment report for the post step's inputs (what the client's `fulfil` takes). */
export interface FulfilmentReport {
  readonly receipt: string;
  readonly target: string;
  readonly outcome: 'success' | 'failure';
  readonly detail: string;
  readonly fingerprint?: string;
}

/**
 * What the post step reports: `success` only for a job that succeeded (a failed or
 * cancelled one is a `failure`). The server takes a successful apply only with the
 * fingerprint of its result, the one thing the reconciler can compare with what it later
 * observes; without one, the step fails here, saying how to give it.
 */
export function fulfilmentReport(receipt: string, inputs: PostInputs): FulfilmentReport {
  const outcome = inputs.jobStatus === 'success' ? 'success' : 'failure';
  if (outcome === 'success' && inputs.fingerprint === undefined) {
    throw new InputError(
      'INPUT_MISSING',
      'fingerprint',
      'the job succeeded, and a successful fulfilment carries the sha256: fingerprint of what ' +
        `the job left at the target: give the fingerprint input, or export ${FINGERPRINT_ENV} ` +
        'from the step that learns it',
    );
  }
  return {
    receipt,
    target: inputs.target,
    outcome,
    detail: `job status ${inputs.jobStatus}`,
    ...(inputs.fingerprint === undefined ? {} : { fingerprint: inputs.fingerprint }),
  };
}
