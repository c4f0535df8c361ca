import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { exitFor, notStarted, reportFor, type ChildOutcome } from '../../src/cli/exec/outcome.js';

const ACTION_FP = `sha256:${'a'.repeat(64)}`;
const FILE_FP = `sha256:${'b'.repeat(64)}`;

describe('exec outcome', () => {
  describe('when the command exited 0', () => {
    const ok: ChildOutcome = { kind: 'exited', code: 0 };

    it('reports a success with the digest of the action when no file was named', () => {
      expect(reportFor(ok, null, ACTION_FP)).toEqual({
        outcome: 'success',
        detail: 'exit code 0',
        fingerprint: ACTION_FP,
      });
    });

    it("reports a success with the file's digest when it was read", () => {
      expect(reportFor(ok, { kind: 'read', fingerprint: FILE_FP }, ACTION_FP)).toMatchObject({
        outcome: 'success',
        fingerprint: FILE_FP,
      });
    });

    it('reports a failure without a fingerprint when the file could not be read', () => {
      const r = reportFor(ok, { kind: 'unreadable', errno: 'EISDIR' }, ACTION_FP);
      expect(r).toEqual({
        outcome: 'failure',
        detail: 'exit code 0, but the --fingerprint-from file could not be read (EISDIR)',
      });
    });

    it('exits 0', () => {
      expect(exitFor(ok)).toEqual({ kind: 'code', code: 0 });
    });
  });

  describe('when the command failed', () => {
    it('reports a failure naming the exit code and exits with it', () => {
      const o: ChildOutcome = { kind: 'exited', code: 42 };
      expect(reportFor(o, null, ACTION_FP)).toEqual({ outcome: 'failure', detail: 'exit code 42' });
      expect(exitFor(o)).toEqual({ kind: 'code', code: 42 });
    });

    it('reports the signal that ended it and re-raises it with the status 128+n', () => {
      const o: ChildOutcome = { kind: 'signalled', signal: 'SIGKILL' };
      expect(reportFor(o, null, ACTION_FP)).toEqual({
        outcome: 'failure',
        detail: 'killed by signal SIGKILL',
      });
      expect(exitFor(o)).toEqual({
        kind: 'signal',
        signal: 'SIGKILL',
        code: 128 + constants.signals.SIGKILL,
      });
    });
  });

  describe('when the command never started', () => {
    it.each([
      ['ENOENT', 127, 'command not found'],
      ['ENOTDIR', 127, 'command not found'],
      ['EACCES', 126, 'command not executable (EACCES)'],
      ['E2BIG', 126, 'command could not start (E2BIG)'],
    ])('after %s it exits %i and reports "%s"', (errno, code, detail) => {
      const o = notStarted(errno);
      expect(exitFor(o)).toEqual({ kind: 'code', code });
      expect(reportFor(o, null, ACTION_FP)).toEqual({ outcome: 'failure', detail });
    });
  });
});
