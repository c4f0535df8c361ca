import type { FastifyError } from 'fastify';
import { describe, expect, it } from 'vitest';
import { answerFor } from '../../src/http/errors.js';
import { STATUS } from '../../src/http/problem.js';

/** An error as a plugin raises it: a status and a message, no code of ours. */
const withStatus = (statusCode: number, message = 'refused'): FastifyError =>
  Object.assign(new Error(message), { statusCode, code: 'SOME_PLUGIN_CODE' });

describe('answerFor', () => {
  describe("when a plugin refuses with a status alone (the static files' 403)", () => {
    it.each([403, 404, 405, 408, 413, 415, 431])(
      'answers %i with the code that status has in the table',
      (status) => {
        const { problem, failure } = answerFor(withStatus(status), '/assets/x');
        expect(problem.status).toBe(status);
        expect(STATUS[problem.code]).toBe(status);
        expect(failure).toBeNull();
      },
    );

    it('answers another 4xx as a 400 VALIDATION_FAILED, never a code with a status not its own', () => {
      const { problem } = answerFor(withStatus(416), '/assets/x');
      expect([problem.status, problem.code]).toEqual([400, 'VALIDATION_FAILED']);
    });

    it('never shows the plugin message, which may quote the path or a header', () => {
      const { problem } = answerFor(withStatus(403, 'cs_secret_token in /a/b'), '/a');
      expect(JSON.stringify(problem)).not.toContain('cs_secret_token');
    });
  });
});
