import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actionYaml,
  SimulatedJob,
  TokenEndpoint,
  type JobSetup,
  type StepResult,
} from '../helpers/actions-runner.js';
import { query } from '../helpers/db.js';
import { AUDIENCE, FederatedServer, tokenDigest } from '../helpers/federated.js';
import { githubBoundWarrant } from '../helpers/github-warrant.js';
import type { GithubJob } from '../helpers/oidc-issuer.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

let f: FederatedServer;
let s: TestServer;
serveDuringSuite(FederatedServer, (started) => {
  f = started;
  s = started.server;
});

let tokens: TokenEndpoint;
beforeAll(async () => {
  tokens = await TokenEndpoint.start((audience, job) =>
    f.github.mintGithubActions(new Date(), audience, job),
  );
});
afterAll(async () => {
  await tokens.close();
});

const jobs: SimulatedJob[] = [];
afterAll(() => jobs.forEach((j) => j.dispose()));

/** The executor every job of acme/deploy in environment prod is (the token's `sub`). */
const EXECUTOR = 'gha:repo:acme/deploy:environment:prod';
const TARGETS = ['eu', 'us', 'ap'];
/** What a deployment left at a target, as the job reports it. */
const fingerprint = (n: number) => `sha256:${n.toString(16).padStart(2, '0').repeat(32)}`;

const boundWarrant = (maxUses = 3) =>
  githubBoundWarrant(f, { maxUses, targets: TARGETS, owner: 'team' });

/** A job of the deployment workflow, its tokens carrying `claims`, using the action. */
function deployJob(
  warrant: string,
  o: {
    claims?: GithubJob;
    repeat?: boolean;
    target?: string;
    fingerprint?: string;
    setup?: Partial<JobSetup>;
  } = {},
): { job: SimulatedJob; runtime: Record<string, string> } {
  const runtime = tokens.register(o.claims ?? {}, { repeat: o.repeat ?? false });
  const job = new SimulatedJob({
    runtime,
    with: {
      server: s.url,
      warrant,
      resource: 'db/orders',
      permission: 'read',
      environment: 'prod',
      target: o.target ?? 'eu',
      ...(o.fingerprint === undefined ? {} : { fingerprint: o.fingerprint }),
    },
    ...o.setup,
  });
  jobs.push(job);
  return { job, runtime };
}

const usesOf = (requestId: string): number =>
  query<{ uses: number }>(
    s.dataDir,
    'select uses from warrants where request_id = ?',
    requestId,
  )[0]!.uses;

/** The data of the request's events of `type`, from the log, oldest first. */
const events = (requestId: string, type: string): Record<string, unknown>[] =>
  query<{ leaf: string }>(
    s.dataDir,
    'select leaf from events where type = ? and request_id = ? order by id',
    type,
    requestId,
  ).map((r) => JSON.parse(r.leaf).data);

/** The step's lines with the warrant in them: only the runner's mask command may be one. */
const linesWith = (run: StepResult, secret: string): string[] =>
  `${run.stdout}\n${run.stderr}`.split('\n').filter((l) => l.includes(secret));

describe('the countersign GitHub Action', () => {
  describe('when a job of the bound repository and environment redeems', () => {
    let requestId: string;
    let warrant: string;
    let runtime: Record<string, string>;
    let job: SimulatedJob;
    let main: StepResult;
    beforeAll(async () => {
      ({ requestId, warrant } = await boundWarrant());
      ({ job, runtime } = deployJob(warrant, { target: 'eu' }));
      main = await job.main();
      expect(main.code, main.stdout + main.stderr).toBe(0);
    });

    it('exposes the receipt, its id, the use and what remains as outputs', () => {
      expect(Object.keys(main.outputs).sort()).toEqual(Object.keys(actionYaml().outputs).sort());
      const claims = decodeJwt(main.outputs.receipt!);
      expect(main.outputs).toMatchObject({
        'receipt-id': claims.jti,
        'warrant-id': claims.warrant_id,
        'request-id': requestId,
        use: '1',
        remaining: '2',
      });
    });

    it('gets a receipt that verifies against the server and names the job as workload', async () => {
      const jwks = createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`));
      const { payload } = await jwtVerify(main.outputs.receipt!, jwks, { typ: 'receipt+jwt' });
      const [token] = tokens.issuedTo(runtime);
      expect(payload).toMatchObject({
        request_id: requestId,
        use: 1,
        max_uses: 3,
        action: { resource: 'db/orders', permission: 'read', environment: 'prod', target: 'eu' },
        executor: EXECUTOR,
        executor_identity: {
          via: 'oidc',
          issuer: f.github.issuer,
          subject: 'repo:acme/deploy:environment:prod',
          token_digest: tokenDigest(decodeJwt(token!).jti!),
        },
      });
    });

    it('asks the runner for a token for the server audience', () => {
      const issued = tokens.issuedTo(runtime);
      expect(issued.length).toBeGreaterThan(0);
      expect(issued.map((t) => decodeJwt(t).aud)).toEqual(issued.map(() => AUDIENCE));
    });

    it('writes the ids and the folded receipt to the job summary, and never to the log', () => {
      const claims = decodeJwt(main.outputs.receipt!);
      expect(main.summary).toContain('use 1 of 3 redeemed');
      for (const id of [claims.jti!, claims.warrant_id as string, requestId, EXECUTOR]) {
        expect(main.summary).toContain(id);
      }
      expect(main.summary).toContain('read on db/orders in prod at eu');
      expect(main.summary).toContain(
        `<details><summary>signed receipt (JWS)</summary><code>${main.outputs.receipt!}</code></details>`,
      );
      expect(main.stdout + main.stderr).not.toContain(main.outputs.receipt!);
    });

    it('masks the warrant before anything else, and never prints it', () => {
      expect(main.stdout.split('\n')[0]).toBe(`::add-mask::${warrant}`);
      expect(linesWith(main, warrant)).toEqual([`::add-mask::${warrant}`]);
    });

    it('makes the redemption retry-safe with a key of the run attempt, job and step', () => {
      expect(events(requestId, 'redemption.allowed')[0]).toMatchObject({
        idempotencyKey: `gha:${job.runId}:1:${job.checkRunId}:countersign`,
      });
    });

    describe('and the job succeeds, its deploy step exporting the fingerprint', () => {
      let post: StepResult;
      beforeAll(async () => {
        job.exportVariable('COUNTERSIGN_FINGERPRINT', fingerprint(1));
        post = await job.post('success');
        expect(post.code, post.stdout + post.stderr).toBe(0);
      });

      it('reports a successful fulfilment at the target against the receipt', () => {
        const [recorded, ...more] = events(requestId, 'fulfilment.recorded');
        expect(more).toEqual([]);
        expect(recorded).toMatchObject({
          receiptId: main.outputs['receipt-id'],
          target: 'eu',
          phase: 'apply',
          outcome: 'success',
          detail: 'job status success',
          fingerprint: fingerprint(1),
        });
        expect(post.summary).toContain(
          `fulfilment ${recorded!.id as string} recorded: success at eu`,
        );
      });

      it('reports it as the same workload identity, with a token of its own', () => {
        const [fulfilment] = query<{ executor: string }>(
          s.dataDir,
          'select executor from fulfilments where request_id = ?',
          requestId,
        );
        expect(fulfilment!.executor).toBe(EXECUTOR);
        const issued = tokens.issuedTo(runtime);
        expect(new Set(issued.map((t) => decodeJwt(t).jti)).size).toBe(issued.length);
      });

      it('never prints the warrant', () => {
        expect(linesWith(post, warrant)).toEqual([]);
      });
    });
  });

  describe('when the job succeeds without saying what it left at the target', () => {
    it('fails the post step, saying how to give the fingerprint, and reports nothing', async () => {
      const { requestId, warrant } = await boundWarrant();
      const { job } = deployJob(warrant, { target: 'eu' });
      expect((await job.main()).code).toBe(0);
      const post = await job.post('success');
      expect(post.code).toBe(1);
      expect(post.stdout).toMatch(
        /^::error::countersign: INPUT_MISSING: the job succeeded, .*COUNTERSIGN_FINGERPRINT/m,
      );
      expect(events(requestId, 'fulfilment.recorded')).toEqual([]);
    });
  });

  describe('when the job fails after redeeming', () => {
    it('reports the fulfilment as a failure, naming the job status', async () => {
      const { requestId, warrant } = await boundWarrant();
      const { job } = deployJob(warrant, { target: 'us' });
      expect((await job.main()).code).toBe(0);
      const post = await job.post('failure');
      expect(post.code, post.stdout + post.stderr).toBe(0);
      expect(events(requestId, 'fulfilment.recorded')).toEqual([
        expect.objectContaining({ target: 'us', outcome: 'failure', detail: 'job status failure' }),
      ]);
    });

    it('reports a cancelled job as a failure too', async () => {
      const { requestId, warrant } = await boundWarrant();
      const { job } = deployJob(warrant, { target: 'ap' });
      expect((await job.main()).code).toBe(0);
      expect((await job.post('cancelled')).code).toBe(0);
      expect(events(requestId, 'fulfilment.recorded')).toEqual([
        expect.objectContaining({ outcome: 'failure', detail: 'job status cancelled' }),
      ]);
    });
  });

  describe('when the token belongs to another job', () => {
    let requestId: string;
    let warrant: string;
    beforeAll(async () => {
      ({ requestId, warrant } = await boundWarrant());
    });

    it.each([
      ['another repository', { repository: 'acme/other' }],
      ['another environment', { environment: 'staging' }],
    ])('refuses %s with EXECUTOR_MISMATCH, spending nothing', async (_n, claims) => {
      const { job } = deployJob(warrant, { claims });
      const main = await job.main();
      expect(main.code).toBe(1);
      expect(main.stdout).toMatch(/^::error::countersign: EXECUTOR_MISMATCH: .+$/m);
      expect(main.outputs).toEqual({});
      expect(main.state).toEqual({});
      expect(usesOf(requestId)).toBe(0);
      expect(linesWith(main, warrant)).toEqual([`::add-mask::${warrant}`]);
      expect(events(requestId, 'redemption.denied').at(-1)).toMatchObject({
        code: 'EXECUTOR_MISMATCH',
      });

      const post = await job.post('failure');
      expect(post.code).toBe(0);
      expect(post.stdout).toContain('no receipt from the main step');
      expect(events(requestId, 'fulfilment.recorded')).toEqual([]);
    });

    it('still redeems for the bound job afterwards, as use 1', async () => {
      const main = await deployJob(warrant).job.main();
      expect(main.code, main.stdout).toBe(0);
      expect(main.outputs.use).toBe('1');
    });
  });

  describe('when the runner hands out the same token twice', () => {
    it('refuses the replayed token with TOKEN_REPLAYED, spending nothing', async () => {
      const { requestId, warrant } = await boundWarrant();
      const { job, runtime } = deployJob(warrant, { repeat: true });
      expect((await job.main()).code).toBe(0);
      const again = await job.main();
      expect(tokens.issuedTo(runtime)).toHaveLength(2);
      expect(new Set(tokens.issuedTo(runtime)).size).toBe(1);
      expect(again.code).toBe(1);
      expect(again.stdout).toMatch(/^::error::countersign: TOKEN_REPLAYED: .+\(HTTP 401\)$/m);
      expect(again.outputs).toEqual({});
      expect(usesOf(requestId)).toBe(1);
    });
  });

  describe('when the step runs again in the same job attempt', () => {
    it('answers the first receipt again and spends nothing', async () => {
      const { requestId, warrant } = await boundWarrant();
      const { job } = deployJob(warrant);
      const first = await job.main();
      const again = await job.main();
      expect(again.code, again.stdout).toBe(0);
      expect(again.outputs.receipt).toBe(first.outputs.receipt);
      expect(usesOf(requestId)).toBe(1);
    });
  });

  describe('when one warrant of 3 uses serves the 3 jobs of one deployment', () => {
    /** One workflow run: the three legs of its matrix. */
    const RUN_ID = '7001';
    let requestId: string;
    let warrant: string;
    let legs: StepResult[];
    beforeAll(async () => {
      ({ requestId, warrant } = await boundWarrant(3));
      legs = [];
      for (const [i, target] of TARGETS.entries()) {
        const setup = { runId: RUN_ID, jobIndex: String(i) };
        const { job } = deployJob(warrant, { target, setup, fingerprint: fingerprint(i) });
        const main = await job.main();
        expect(main.code, main.stdout).toBe(0);
        expect((await job.post('success')).code).toBe(0);
        legs.push(main);
      }
    });

    it('spends one use per job, each at its own target', () => {
      expect(legs.map((l) => [l.outputs.use, l.outputs.remaining])).toEqual([
        ['1', '2'],
        ['2', '1'],
        ['3', '0'],
      ]);
      expect(legs.map((l) => decodeJwt(l.outputs.receipt!).action)).toEqual(
        TARGETS.map((target) => expect.objectContaining({ target })),
      );
    });

    it('records a successful fulfilment for every target, with its fingerprint', () => {
      const recorded = events(requestId, 'fulfilment.recorded');
      expect(recorded.map((r) => [r.target, r.outcome, r.fingerprint])).toEqual(
        TARGETS.map((t, i) => [t, 'success', fingerprint(i)]),
      );
    });

    it('refuses a fourth job with WARRANT_EXHAUSTED', async () => {
      const { job } = deployJob(warrant, { target: 'eu', setup: { runId: RUN_ID, jobIndex: '3' } });
      const main = await job.main();
      expect(main.code).toBe(1);
      expect(main.stdout).toMatch(/^::error::countersign: WARRANT_EXHAUSTED: .+$/m);
      expect(usesOf(requestId)).toBe(3);
    });
  });

  describe('when the job may not ask for an OIDC token', () => {
    it('fails, saying which permission the job needs', async () => {
      const { warrant, requestId } = await boundWarrant();
      const job = new SimulatedJob({
        with: {
          server: s.url,
          warrant,
          resource: 'db/orders',
          permission: 'read',
          environment: 'prod',
        },
      });
      jobs.push(job);
      const main = await job.main();
      expect(main.code).toBe(1);
      expect(main.stdout).toMatch(/^::error::countersign: .*id-token: write/m);
      expect(usesOf(requestId)).toBe(0);
    });
  });
});
