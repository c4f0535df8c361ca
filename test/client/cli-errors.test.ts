import { describe, expect, it } from 'vitest';
import { CountersignApiError, CountersignClientError } from '../../src/client/index.js';
import { CliError, cliErrorOf, EXIT } from '../../src/cli/errors.js';
import { runCli } from '../helpers/server.js';
import { deadAddress, ScriptedServer } from './scripted-server.js';

describe('cliErrorOf', () => {
  describe('when the server answered with a problem', () => {
    it('is exit 2 for a 4xx and 1 for a 5xx, with CODE: detail', () => {
      const four = cliErrorOf(new CountersignApiError(409, 'REQUEST_NOT_PENDING', 't', 'decided'));
      expect(four).toBeInstanceOf(CliError);
      expect(four).toMatchObject({
        message: 'REQUEST_NOT_PENDING: decided',
        exitCode: EXIT.usage,
        code: 'REQUEST_NOT_PENDING',
      });
      const five = cliErrorOf(new CountersignApiError(503, 'NOT_READY', 't', 'db down'));
      expect(five).toMatchObject({ message: 'NOT_READY: db down', exitCode: EXIT.server });
    });
  });

  describe('when there was no usable answer', () => {
    it('is exit 1, saying which server could not be reached', () => {
      const e = new CountersignClientError('UNREACHABLE', 'GET /v1/keys: ECONNREFUSED', {
        server: 'http://127.0.0.1:1',
      });
      expect(cliErrorOf(e)).toMatchObject({
        message: 'cannot reach http://127.0.0.1:1: GET /v1/keys: ECONNREFUSED',
        exitCode: EXIT.server,
        code: 'UNREACHABLE',
      });
    });
  });

  describe('when the error is anything else', () => {
    it('passes it through', () => {
      const e = new RangeError('bug');
      expect(cliErrorOf(e)).toBe(e);
    });
  });
});

describe('the CLI on the client SDK', () => {
  describe('when nothing listens at the address', () => {
    it('exits 1 with "cannot reach" and the address', async () => {
      const addr = await deadAddress();
      const out = await runCli(['keys', 'list'], {
        COUNTERSIGN_ADDR: addr,
        COUNTERSIGN_TOKEN: 'tok',
      });
      expect(out.code).toBe(EXIT.server);
      expect(out.stderr).toBe(`error: cannot reach ${addr}: GET /v1/keys: ECONNREFUSED\n`);
    });
  });

  describe('when a redemption is refused with a denial code', () => {
    it('exits 3 with "denied:", also for REDEMPTION_MALFORMED (a 400)', async () => {
      for (const [status, code] of [
        [403, 'WARRANT_EXHAUSTED'],
        [400, 'REDEMPTION_MALFORMED'],
      ] as const) {
        const s = await ScriptedServer.start(() => ({
          status,
          headers: { 'content-type': 'application/problem+json' },
          body: JSON.stringify({ title: code, status, code, detail: 'scripted' }),
        }));
        const out = await runCli(
          [
            'redeem',
            '--warrant',
            'w',
            '--resource',
            'db/x',
            '--permission',
            'read',
            '--env',
            'dev',
          ],
          { COUNTERSIGN_ADDR: s.url },
        );
        await s.stop();
        expect(out.code).toBe(EXIT.denied);
        expect(out.stderr).toBe(`error: denied: ${code}: scripted\n`);
        expect(s.seen).toHaveLength(1);
        expect(s.seen[0]?.headers.authorization).toBeUndefined();
      }
    });
  });
});
