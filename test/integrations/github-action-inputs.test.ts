import { describe, expect, it } from 'vitest';
import {
  defaultIdempotencyKey,
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
  describe('when the step runs on a runner', () => {
    it('names the run, attempt, job, matrix leg and step, with _ read as .', () => {
      expect(defaultIdempotencyKey(RUNNER, '2')).toBe(
        'gha:9876:2:deploy.eu:2:..countersign.redeem',
      );
    });

    it('tells apart every part that differs', () => {
      const keys = [
        defaultIdempotencyKey(RUNNER, '0'),
        defaultIdempotencyKey(RUNNER, '1'),
        defaultIdempotencyKey({ ...RUNNER, GITHUB_RUN_ATTEMPT: '3' }, '0'),
        defaultIdempotencyKey({ ...RUNNER, GITHUB_RUN_ID: '9877' }, '0'),
        defaultIdempotencyKey({ ...RUNNER, GITHUB_JOB: 'deploy-eu' }, '0'),
        defaultIdempotencyKey({ ...RUNNER, GITHUB_ACTION: 'redeem_2' }, '0'),
      ];
      expect(new Set(keys).size).toBe(keys.length);
    });

    it('hashes ids the readable form cannot carry, into a key the server accepts', () => {
      const long = defaultIdempotencyKey({ ...RUNNER, GITHUB_JOB: 'j'.repeat(250) }, '0');
      const odd = defaultIdempotencyKey({ ...RUNNER, GITHUB_JOB: 'déploy' }, '0');
      for (const key of [long, odd]) expect(key).toMatch(/^gha:[0-9a-f]{64}$/);
      expect(long).not.toBe(odd);
    });
  });

  describe('when no runner ran the step', () => {
    it('gives no key, so the redemption is sent once', () => {
      expect(defaultIdempotencyKey({}, '0')).toBeUndefined();
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

  describe('when an input is missing or malformed', () => {
    it.each([
      ['warrant', { ...MAIN, warrant: '' }, 'INPUT_MISSING'],
      ['resource', { ...MAIN, resource: '' }, 'INPUT_MISSING'],
      ['server', { ...MAIN, server: 'not a url' }, 'INPUT_INVALID'],
      ['server', { ...MAIN, server: 'file:///etc/passwd' }, 'INPUT_INVALID'],
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
  describe('when the redemption named no target', () => {
    it("reports the fulfilment at the server's untargeted name", () => {
      expect(
        readPostInputs(reader({ server: MAIN.server, 'job-status': 'success' })),
      ).toMatchObject({
        target: 'default',
        jobStatus: 'success',
        fingerprint: undefined,
      });
    });
  });
});
