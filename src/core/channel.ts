/**
 * An unbounded queue that one producer fills and one consumer drains in order, as an
 * async iterable: a reconciliation pass writes one slice of its plan while the planner
 * (often another thread) makes the next. The consumer sees every item pushed before
 * `end`, and after the last of them the error a failed producer gave.
 */
export class Channel<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #next = 0;
  #closed: { readonly failed: false } | { readonly failed: true; readonly error: unknown } | null =
    null;
  #wake: (() => void) | null = null;

  push(item: T): void {
    if (this.#closed !== null) throw new Error('push to a closed channel');
    this.#items.push(item);
    this.#notify();
  }

  end(): void {
    this.#closed ??= { failed: false };
    this.#notify();
  }

  fail(error: unknown): void {
    this.#closed ??= { failed: true, error };
    this.#notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#next < this.#items.length) {
        const item = this.#items[this.#next++] as T;
        // Drop what was taken once all is, so memory holds what waits, not all ever pushed.
        if (this.#next === this.#items.length) {
          this.#items = [];
          this.#next = 0;
        }
        yield item;
        continue;
      }
      if (this.#closed?.failed) throw this.#closed.error;
      if (this.#closed !== null) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}
