/** What a caller asks of a pass: whether it must plan every subject (decision 0029). */
export interface PassRequest {
  readonly full?: boolean;
}

interface Queued<S> {
  full: boolean;
  readonly result: Promise<S>;
}

/**
 * One reconciliation pass at a time on a node. The scheduled pass and `POST /v1/reconcile`
 * would otherwise plan the same subjects at once: safe (a finding's key is checked again
 * when written, and the watermark only moves forward) but each slows the other, and both
 * take the core redemptions need.
 *
 * A call while a pass runs is answered by the next pass, which starts when the running one
 * ends: its caller asked after the running pass had read its snapshot, so only a later
 * pass sees everything that caller has written. Every call made while the same pass runs
 * shares that one next pass, planned whole if any of them asked for it.
 */
export class PassGate<S> {
  #running: Promise<S> | null = null;
  #next: Queued<S> | null = null;

  constructor(private readonly pass: (request: PassRequest) => Promise<S>) {}

  run(request: PassRequest = {}): Promise<S> {
    const full = request.full === true;
    // The queued pass first: between the running pass's end and the queued one's start
    // there is no pass running, and a call then must not start one beside it.
    if (this.#next !== null) {
      this.#next.full ||= full;
      return this.#next.result;
    }
    if (this.#running === null) return this.#start(full);
    const after = this.#running.then(
      () => undefined,
      () => undefined,
    );
    const next: Queued<S> = {
      full,
      result: after.then(() => {
        this.#next = null;
        return this.#start(next.full);
      }),
    };
    this.#next = next;
    return next.result;
  }

  #start(full: boolean): Promise<S> {
    const running = this.pass({ full }).finally(() => {
      if (this.#running === running) this.#running = null;
    });
    this.#running = running;
    return running;
  }
}
