import type { FastifyBaseLogger } from 'fastify';
import { integrateBatch, type IntegrateContext } from '../service/integrate.js';

/**
 * Runs the log integrator in the background: a batch every `intervalMs` while events
 * are queued. `flush()` integrates everything queued so far, for readers that need
 * a checkpoint covering the latest events (proofs, evidence).
 */
export class Integrator {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    private readonly ctx: IntegrateContext,
    private readonly log: FastifyBaseLogger | undefined,
    // Five checkpoints a second: each batch signs one, so a shorter interval mostly adds
    // checkpoints (and their rows) under load; readers that need the newest call flush().
    private readonly intervalMs = 200,
  ) {}

  start(): void {
    const tick = (): void => {
      if (this.#stopped) return;
      void this.flush()
        .catch((e: unknown) =>
          this.log?.error({ err: { message: (e as Error).message } }, 'log integration failed'),
        )
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.intervalMs);
        });
    };
    this.#timer = setTimeout(tick, this.intervalMs);
  }

  /** Integrates until no event is queued; calls are serialised. */
  flush(): Promise<void> {
    const next = this.#running.then(async () => {
      for (;;) {
        const r = await integrateBatch(this.ctx);
        if (r.integrated === 0) return;
      }
    });
    this.#running = next.catch(() => undefined);
    return next;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}
