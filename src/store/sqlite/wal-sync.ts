import { closeSync, fdatasync, openSync } from 'node:fs';

/**
 * Makes committed WAL frames durable off the event loop. The connection runs with
 * `synchronous=NORMAL`, so COMMIT writes its frames to the WAL without waiting for the
 * disk; `sync()` then calls fdatasync on the WAL file on libuv's thread pool, and the
 * group commit acknowledges a batch only after that returns. A sync covers everything
 * written to the file before it started, so the guarantee is that of
 * `synchronous=FULL`, with the event loop free while the disk works.
 *
 * A failed fdatasync leaves it unknown what reached the disk (the kernel may already
 * have dropped the dirty pages), so every later sync fails too: the node stops
 * acknowledging writes rather than acknowledge something it cannot vouch for.
 */
export class WalSync {
  #fd: number | null = null;
  #failed: Error | null = null;

  constructor(private readonly walPath: string) {}

  sync(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((ok, fail) => {
      const failed = (cause: unknown): void => {
        this.#failed ??= new Error(
          'fdatasync of the SQLite WAL failed; writes are no longer acknowledged',
          { cause },
        );
        fail(this.#failed);
      };
      try {
        // The WAL exists once a transaction has committed; SQLite keeps the file
        // (rewinding it after checkpoints) while any connection is open.
        this.#fd ??= openSync(this.walPath, 'r');
      } catch (error) {
        return failed(error);
      }
      fdatasync(this.#fd, (error) => (error ? failed(error) : ok()));
    });
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
