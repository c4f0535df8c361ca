import { constants } from 'node:os';

/**
 * How the command `exec` ran ended, or why it never started: the one fact both the
 * fulfilment report and exec's own exit status are derived from.
 */
export type ChildOutcome =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signalled'; readonly signal: NodeJS.Signals }
  | {
      readonly kind: 'not_started';
      readonly reason: 'not_found' | 'not_executable' | 'spawn_failed';
      /** The errno name (`ENOENT`, `EACCES` …), never the command line. */
      readonly errno: string;
    };

/** What `--fingerprint-from` gave after a successful run. */
export type FingerprintResult =
  | { readonly kind: 'read'; readonly fingerprint: string }
  | { readonly kind: 'unreadable'; readonly errno: string };

/** One fulfilment report's fields, the same for every target of one run. */
export interface ExecReport {
  readonly outcome: 'success' | 'failure';
  readonly detail: string;
  readonly fingerprint?: string;
}

/** How exec itself ends: with a code, or by the signal that ended the command. */
export type ExitPlan =
  | { readonly kind: 'code'; readonly code: number }
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals; readonly code: number };

/** Shell conventions, so `$?` reads the same as if the shell had run the command itself. */
export const EXIT_NOT_FOUND = 127;
export const EXIT_NOT_EXECUTABLE = 126;

/** Classifies a spawn error by its errno: what a shell would call "not found" or "cannot execute". */
export function notStarted(errno: string): ChildOutcome {
  switch (errno) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { kind: 'not_started', reason: 'not_found', errno };
    case 'EACCES':
    case 'EPERM':
    case 'ENOEXEC':
    case 'EISDIR':
      return { kind: 'not_started', reason: 'not_executable', errno };
    default:
      return { kind: 'not_started', reason: 'spawn_failed', errno };
  }
}

/**
 * The fulfilment a run reports at each target. A success must carry a fingerprint (the
 * server refuses a successful `apply` without one): the file's when `--fingerprint-from`
 * named one, else `actionFingerprint`. A file that cannot be read after a successful run
 * turns the report into a failure: exec cannot vouch for a result it cannot see.
 * Details name exit codes, signals and errno names only, never the command line, which
 * may hold secrets.
 */
export function reportFor(
  o: ChildOutcome,
  fingerprint: FingerprintResult | null,
  actionFingerprint: string,
): ExecReport {
  switch (o.kind) {
    case 'exited':
      if (o.code !== 0) return { outcome: 'failure', detail: `exit code ${o.code}` };
      if (fingerprint === null) {
        return { outcome: 'success', detail: 'exit code 0', fingerprint: actionFingerprint };
      }
      return fingerprint.kind === 'read'
        ? { outcome: 'success', detail: 'exit code 0', fingerprint: fingerprint.fingerprint }
        : {
            outcome: 'failure',
            detail: `exit code 0, but the --fingerprint-from file could not be read (${fingerprint.errno})`,
          };
    case 'signalled':
      return { outcome: 'failure', detail: `killed by signal ${o.signal}` };
    case 'not_started':
      switch (o.reason) {
        case 'not_found':
          return { outcome: 'failure', detail: 'command not found' };
        case 'not_executable':
          return { outcome: 'failure', detail: `command not executable (${o.errno})` };
        case 'spawn_failed':
          return { outcome: 'failure', detail: `command could not start (${o.errno})` };
      }
  }
}

/** exec's exit status: the command's code; for a signal 128+n, the status a shell shows. */
export function exitFor(o: ChildOutcome): ExitPlan {
  switch (o.kind) {
    case 'exited':
      return { kind: 'code', code: o.code };
    case 'signalled':
      return { kind: 'signal', signal: o.signal, code: 128 + (constants.signals[o.signal] ?? 0) };
    case 'not_started':
      return {
        kind: 'code',
        code: o.reason === 'not_found' ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE,
      };
  }
}
