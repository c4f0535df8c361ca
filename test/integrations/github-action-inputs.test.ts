import { describe, expect, it } from 'vitest';
import {
  defaultIdempotencyKey,
  fulfilmentReport,
  InputError,
  readMainInputs,
  readPostInputs,
} from '../../integrations/github-action/src/inputs.js';

const reader =
  (inputs: Record<string, string>) =>
  (name: string): string =>
    inputs[name] ?? '';

const MAIN = {
  server: 'https://countersign.example',
  warrant: 'w.a.rrant',
  resource: 'db/orders',
  permission: 'read',
  environment: 'prod',
};
const RUNNER = {
  GITHUB_RUN_ID: '9876',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_JOB: 'deploy_eu',
  GITHUB_ACTION: '__countersign_redeem',
};

describe('defaultIdempotencyKey', () => {
  describe('when the runner gives the job a check run id', () => {
    it('names the run, attempt, check run and step, with _ read as .', () => {
      expect(defaultIdempotencyKey(RUNNER, { checkRunId: '51725241954', jobIndex: '2' })).toBe(
        'gha:9876:2:51725241954:..countersign.redeem',
      );
    });

    it('tells apart two callers of one reusable workflow (same job id, same index)', () => {
      const a = defaultIdempotencyKey(RUNNER, { checkRunId: '51725241954', jobIndex: '0' });
      const b = defaultIdempotencyKey(RUNNER, { checkRunId: '51725241960', jobIndex: '0' });
      expect(a).not.toBe(b);
    });
  });

  describe('when the runner has no check run id (GitHub Enterprise Server)', () => {
    const job = (jobIndex: string) => ({ checkRunId: '', jobIndex });

    it('names the run, attempt, job, matrix leg and step instead', () => {
      expect(defaultIdempotencyKey(RUNNER, job('2'))).toBe(
        'gha:9876:2:deploy.eu:2:..countersign.redeem',
      );
    });

    it('tells apart every part that differs', () => {
      const keys = [
        defaultIdempotencyKey(RUNNER, job('0')),
        defaultIdempotencyKey(RUNNER, job('1')),
        defaultIdempotencyKey({ ...RUNNER, GITHUB_RUN_ATTEMPT: '3' }, job('0')),
        defaultIdempotencyKey({ ...RUNNER, GITHUB_RUN_ID: '9877' }, job('0')),
        defaultIdempotencyKey({ ...RUNNER, GITHUB_JOB: 'deploy-eu' }, job('0')),
        defaultIdempotencyKey({ ...RUNNER, GITHUB_ACTION: 'redeem_2' }, job('0')),
      ];
      expect(new Set(keys).size).toBe(keys.length);
    });

    it('hashes ids the readable form cannot carry, into a key the server accepts', () => {
      const long = defaultIdempotencyKey({ ...RUNNER, GITHUB_JOB: 'j'.repeat(250) }, job('0'));
      const odd = defaultIdempotencyKey({ ...RUNNER, GITHUB_JOB: 'déploy' }, job('0'));
      for (const key of [long, odd]) expect(key).toMatch(/^gha:[0-9a-f]{64}$/);
      expect(long).not.toBe(odd);
    });
  });

  describe('when no runner ran the step', () => {
    it('gives no key, so the redemption is sent once', () => {
      expect(defaultIdempotencyKey({}, { checkRunId: '', jobIndex: '0' })).toBeUndefined();
    });
  });
});

describe('readMainInputs', () => {
  describe('when every input is given', () => {
    it('builds the redemption, the target included only when given', () => {
      const plain = readMainInputs(reader(MAIN), RUNNER);
      expect(plain.action).toEqual({
        resource: 'db/orders',
        permission: 'read',
        environment: 'prod',
      });
      expect(plain.audience).toBe('countersign');
      const targeted = readMainInputs(reader({ ...MAIN, target: 'eu' }), RUNNER);
      expect(targeted.action.target).toBe('eu');
    });

    it('prefers an idempotency key given as input', () => {
      const i = readMainInputs(reader({ ...MAIN, 'idempotency-key': 'release-42' }), RUNNER);
      expect(i.idempotencyKey).toBe('release-42');
    });
  });

  describe('when the server is reached over plain http', () => {
    it('allows it only on the runner itself', () => {
      const on = (server: string) => readMainInputs(reader({ ...MAIN, server }), RUNNER);
      expect(on('http://127.0.0.1:8470').server.href).toBe('http://127.0.0.1:8470/');
      expect(on('http://localhost:8470').server.hostname).toBe('localhost');
      expect(() => on('http://10.0.0.7:8470')).toThrow(InputError);
    });
  });

  describe('when an input is missing or malformed', () => {
    it.each([
      ['warrant', { ...MAIN, warrant: '' }, 'INPUT_MISSING'],
      ['resource', { ...MAIN, resource: '' }, 'INPUT_MISSING'],
      ['server', { ...MAIN, server: 'not a url' }, 'INPUT_INVALID'],
      ['server', { ...MAIN, server: 'file:///etc/passwd' }, 'INPUT_INVALID'],
      ['server', { ...MAIN, server: 'http://countersign.example' }, 'INPUT_INVALID'],
    ])('refuses, naming the input (%s) and not its value', (input, given, code) => {
      let error: unknown;
      try {
        readMainInputs(reader(given), RUNNER);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ code, input, message: expect.stringContaining(input) });
      if (given.server !== MAIN.server) expect(String(error)).not.toContain(given.server);
    });
  });
});

describe('readPostInputs', () => {
  const POST = { server: MAIN.server, 'job-status': 'success' };
  const FP = `sha256:${'ab'.repeat(32)}`;

  describe('when the redemption named no target', () => {
    it("reports the fulfilment at the server's untargeted name", () => {
      expect(readPostInputs(reader(POST), {})).toMatchObject({
        target: 'default',
        jobStatus: 'success',
        fingerprint: undefined,
      });
    });
  });

  describe('when a step of the job exported the fingerprint', () => {
    it('takes it, unless the fingerprint input is given', () => {
      const env = { COUNTERSIGN_FINGERPRINT: FP };
      expect(readPostInputs(reader(POST), env).fingerprint).toBe(FP);
      const given = `sha256:${'cd'.repeat(32)}`;
      expect(readPostInputs(reader({ ...POST, fingerprint: given }), env).fingerprint).toBe(given);
    });
  });
});

describe('fulfilmentReport', () => {
  const inputs = (jobStatus: string, fingerprint?: string) =>
    readPostInputs(reader({ server: MAIN.server, target: 'eu', 'job-status': jobStatus }), {
      ...(fingerprint === undefined ? {} : { COUNTERSIGN_FINGERPRINT: fingerprint }),
    });
  const FP = `sha256:${'ab'.repeat(32)}`;

  describe('when the job succeeded', () => {
    it('reports a success with the fingerprint and the status', () => {
      expect(fulfilmentReport('r.e.ceipt', inputs('success', FP))).toEqual({
        receipt: 'r.e.ceipt',
        target: 'eu',
        outcome: 'success',
        detail: 'job status success',
        fingerprint: FP,
      });
    });

    it('refuses to report it without a fingerprint, naming the input', () => {
      expect(() => fulfilmentReport('r.e.ceipt', inputs('success'))).toThrow(
        expect.objectContaining({ code: 'INPUT_MISSING', input: 'fingerprint' }),
      );
    });
  });

  describe('when the job did not succeed', () => {
    it.each(['failure', 'cancelled', 'unknown'])('reports %s as a failure', (status) => {
      expect(fulfilmentReport('r.e.ceipt', inputs(status))).toEqual({
        receipt: 'r.e.ceipt',
        target: 'eu',
        outcome: 'failure',
        detail: `job status ${status}`,
      });
    });
  });
});
