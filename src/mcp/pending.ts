/**
 * Work that must finish before the gateway exits though nobody awaits it: the gate's
 * `after` hooks, which report fulfilments once the agent already has its answer.
 */
export class PendingWork {
  readonly #running = new Set<Promise<void>>();

  constructor(private readonly report: (error: Error) => void) {}

  track(work: Promise<void>): void {
    const settled = work.catch((e: unknown) => this.report(e as Error));
    this.#running.add(settled);
    void settled.finally(() => this.#running.delete(settled));
  }

  /** Resolves once everything tracked so far (and anything it started) has settled. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }
}
