import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { GithubJob } from './oidc-issuer.js';
import { ROOT } from './server.js';

/**
 * A simulation of the GitHub Actions runtime, just enough to run a JavaScript action's
 * bundle under Node as the runner does: inputs as `INPUT_*` variables (with action.yml's
 * defaults, whose expressions are evaluated per step), file commands (`GITHUB_OUTPUT`,
 * `GITHUB_STATE`, `GITHUB_STEP_SUMMARY`), saved state passed to the post step as
 * `STATE_*`, and the OIDC token service behind `ACTIONS_ID_TOKEN_REQUEST_URL`.
 */

export const ACTION_DIR = join(ROOT, 'integrations/github-action');

/** Mints a GitHub-shaped OIDC token for a job, for the audience the action asked for. */
export type Mint = (audience: string, job: GithubJob) => Promise<string>;

interface Registered {
  readonly job: GithubJob;
  readonly repeat: boolean;
  readonly issued: string[];
}

/**
 * The runner's OIDC token service on a loopback port. `@actions/core`'s getIDToken sends
 * `GET ${ACTIONS_ID_TOKEN_REQUEST_URL}&audience=<aud>` with the job's
 * `ACTIONS_ID_TOKEN_REQUEST_TOKEN` as a bearer, and reads `{ "value": "<jwt>" }`.
 * Each job gets its own request token, as on GitHub, and so its own claims.
 */
export class TokenEndpoint {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** The jobs by their request token. */
    private readonly jobs: Map<string, Registered>,
  ) {}

  static async start(mint: Mint): Promise<TokenEndpoint> {
    const jobs = new Map<string, Registered>();
    const server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const job = bearer === undefined ? undefined : jobs.get(bearer);
        const audience = url.searchParams.get('audience');
        if (req.method !== 'GET' || url.pathname !== '/_apis/token' || !job || !audience) {
          res.writeHead(job ? 400 : 401).end();
          return;
        }
        const value =
          job.repeat && job.issued.length > 0 ? job.issued[0]! : await mint(audience, job.job);
        job.issued.push(value);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ count: job.issued.length, value }));
      })();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    return new TokenEndpoint(server, `http://127.0.0.1:${port}`, jobs);
  }

  /**
   * The runtime variables of a new job whose tokens carry `job`'s claims. With `repeat`,
   * the service hands the job the same token every time (a replay).
   */
  register(job: GithubJob, opts: { repeat?: boolean } = {}): Record<string, string> {
    const requestToken = randomBytes(24).toString('base64url');
    this.jobs.set(requestToken, { job, repeat: opts.repeat ?? false, issued: [] });
    return {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${this.url}/_apis/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
    };
  }

  /** Every token handed to the job with these runtime variables, in order. */
  issuedTo(runtime: Record<string, string>): readonly string[] {
    return this.jobs.get(runtime.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? '')?.issued ?? [];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

interface ActionYaml {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string; post?: string };
}

/** The action's metadata, as the runner reads it. */
export function actionYaml(): ActionYaml {
  return parse(readFileSync(join(ACTION_DIR, 'action.yml'), 'utf8')) as ActionYaml;
}

/**
 * Evaluates an input default as the runner would, for the few contexts the simulation
 * knows (`${{ job.status }}`, `${{ strategy.job-index }}`); any other expression fails.
 */
function evaluate(text: string, contexts: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, expr: string) => {
    const value = contexts[expr];
    if (value === undefined) throw new Error(`the simulation cannot evaluate \${{ ${expr} }}`);
    return value;
  });
}

/** The values of a file command file (`name<<delimiter` blocks, or `name=value` lines). */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc;
      const end = lines.indexOf(delimiter!, i + 1);
      out[name!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

export interface StepResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly outputs: Record<string, string>;
  readonly state: Record<string, string>;
  readonly summary: string;
}

/** Where a simulated job runs, and what its steps see of the workflow. */
export interface JobSetup {
  /** The runtime's variables (from {@link TokenEndpoint.register}); none: no `id-token: write`. */
  readonly runtime?: Record<string, string>;
  /** The `with:` of the step. */
  readonly with: Record<string, string>;
  readonly repository?: string;
  readonly runId?: string;
  readonly runAttempt?: string;
  readonly job?: string;
  readonly jobIndex?: string;
  /** `job.check_run_id`; '' for a runner without it (GHES). Default: one of its own. */
  readonly checkRunId?: string;
  /** The step's id (GITHUB_ACTION). */
  readonly step?: string;
}

/**
 * One job using the action: `main()` runs the main step, `post(status)` the post step with
 * the state the main step saved and `job.status` as given, each in a fresh Node process
 * whose only environment is what a runner would give it.
 */
export class SimulatedJob {
  readonly #dir = mkdtempSync(join(tmpdir(), 'countersign-runner-'));
  #state: Record<string, string> = {};
  /** What steps of the job exported through `$GITHUB_ENV`, seen by the steps after them. */
  readonly #exported: Record<string, string> = {};
  #steps = 0;
  /** Each job gets its own run and check run unless told otherwise, as on GitHub. */
  readonly runId: string;
  readonly checkRunId: string;

  constructor(private readonly setup: JobSetup) {
    this.runId = setup.runId ?? String(randomInt(1e9, 2e9));
    this.checkRunId = setup.checkRunId ?? String(randomInt(5e10, 6e10));
  }

  main(): Promise<StepResult> {
    return this.#run('main', 'success');
  }

  post(jobStatus: string): Promise<StepResult> {
    return this.#run('post', jobStatus);
  }

  /** What a step between main and post does with `echo "NAME=VALUE" >> "$GITHUB_ENV"`. */
  exportVariable(name: string, value: string): void {
    this.#exported[name] = value;
  }

  /** Removes the job's temporary files. */
  dispose(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #inputs(jobStatus: string): Record<string, string> {
    const contexts = {
      'job.status': jobStatus,
      'job.check_run_id': this.checkRunId,
      'strategy.job-index': this.setup.jobIndex ?? '0',
    };
    const env: Record<string, string> = {};
    for (const [name, spec] of Object.entries(actionYaml().inputs)) {
      const given = this.setup.with[name];
      const value =
        given ?? (spec.default === undefined ? undefined : evaluate(spec.default, contexts));
      // The runner's rule (and getInput's): upper case, spaces to '_', '-' kept.
      if (value !== undefined) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
    }
    return env;
  }

  async #run(stage: 'main' | 'post', jobStatus: string): Promise<StepResult> {
    const meta = actionYaml();
    const script = stage === 'main' ? meta.runs.main : meta.runs.post;
    const n = ++this.#steps;
    const file = (name: string) => {
      const path = join(this.#dir, `${name}_${n}`);
      writeFileSync(path, '');
      return path;
    };
    const files = {
      GITHUB_OUTPUT: file('output'),
      GITHUB_STATE: file('state'),
      GITHUB_STEP_SUMMARY: file('summary'),
      GITHUB_ENV: file('env'),
      GITHUB_PATH: file('path'),
    };
    const s = this.setup;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      RUNNER_TEMP: this.#dir,
      GITHUB_WORKSPACE: this.#dir,
      GITHUB_REPOSITORY: s.repository ?? 'acme/deploy',
      GITHUB_RUN_ID: this.runId,
      GITHUB_RUN_ATTEMPT: s.runAttempt ?? '1',
      GITHUB_JOB: s.job ?? 'deploy',
      GITHUB_ACTION: s.step ?? 'countersign',
      ...this.#exported,
      ...s.runtime,
      ...files,
      ...this.#inputs(jobStatus),
      ...(stage === 'post'
        ? Object.fromEntries(Object.entries(this.#state).map(([k, v]) => [`STATE_${k}`, v]))
        : {}),
    };
    const run = await spawnNode(join(ACTION_DIR, script!), env);
    const state = parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8'));
    if (stage === 'main') this.#state = state;
    return {
      ...run,
      outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      state,
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    };
  }
}

function spawnNode(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.once('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}
