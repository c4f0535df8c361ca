import { spawn, type ChildProcess } from 'node:child_process';
import { notStarted, type ChildOutcome } from './outcome.js';

/** The signals a terminal, a CI runner or a supervisor sends to stop a job. */
export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
export type ForwardedSignal = (typeof FORWARDED_SIGNALS)[number];

/**
 * exec's handlers for {@link FORWARDED_SIGNALS}, installed once just before the spawn and
 * kept until exec ends, so that no such signal kills exec by its default action while it
 * still owes a fulfilment report. Where a signal goes is switched with {@link route}:
 * to the command while it runs, then to whatever should stop the reporting.
 */
export class SignalRelay {
  #to: (signal: ForwardedSignal) => void = () => undefined;
  readonly #handlers = new Map<ForwardedSignal, () => void>();

  constructor() {
    for (const signal of FORWARDED_SIGNALS) {
      const handler = (): void => this.#to(signal);
      this.#handlers.set(signal, handler);
      process.on(signal, handler);
    }
  }

  route(to: (signal: ForwardedSignal) => void): void {
    this.#to = to;
  }

  /** Removes the handlers, so the default action applies again (needed to re-raise). */
  release(): void {
    for (const [signal, handler] of this.#handlers) process.removeListener(signal, handler);
    this.#handlers.clear();
  }
}

/**
 * Runs the command directly (no shell, so no argument is ever re-parsed) with the
 * terminal's stdio, and relays forwarded signals to it while it runs. Resolves once it
 * ended, or with why it never started; never rejects.
 */
export function runChild(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  relay: SignalRelay,
): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: 'inherit', shell: false, env });
    } catch (e) {
      // Arguments spawn refuses outright, such as one holding a NUL byte.
      resolve(notStarted(errnoOf(e)));
      return;
    }
    let started = false;
    relay.route((signal) => {
      try {
        child.kill(signal);
      } catch {
        // The command is already gone: its exit is what ends this run.
      }
    });
    child.once('spawn', () => (started = true));
    // An 'error' after the spawn (a failed kill) does not end the run; 'exit' does.
    child.once('error', (e) => {
      if (!started) resolve(notStarted(errnoOf(e)));
    });
    child.once('exit', (code, signal) =>
      resolve(
        signal !== null ? { kind: 'signalled', signal } : { kind: 'exited', code: code ?? 1 },
      ),
    );
  });
}

const errnoOf = (e: unknown): string => (e as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
