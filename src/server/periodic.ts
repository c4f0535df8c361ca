import type { FastifyBaseLogger } from 'fastify';

/**
 * Runs `task` every `intervalMs` (after the previous run ends, never overlapping)
 * until stopped. Failures are logged by message only and the schedule continues.
 */
export function every(
  intervalMs: number,
  name: string,
  task: () => Promise<unknown>,
  log: FastifyBaseLogger | undefined,
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = (): void => {
    running = task()
      .catch((e: unknown) =>
        log?.error({ err: { message: (e as Error).message } }, `${name} failed`),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
