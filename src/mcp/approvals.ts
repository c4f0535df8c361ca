/**
 * The requests a gateway files on its agent's behalf: at most one pending per call (or
 * session) it would approve, however many calls ask at once, and the wait for a decision.
 */
import type { CountersignClient, CreateRequestInput, RequestView } from '../client/index.js';
import { sleep } from '../client/retry.js';

/** The states after which a request will never issue a warrant (a new one must be filed). */
const CLOSED = new Set(['denied', 'expired', 'withdrawn', 'revoked', 'exhausted']);

/**
 * Where filed requests are remembered beyond one process (a hook runs once per call):
 * key → request id. Ids only; a request's state is always read from the server.
 */
export interface RequestMemory {
  get(key: string): string | undefined;
  set(key: string, requestId: string): void;
}

export class FiledRequests {
  /** Per key: the request filed for it, or the filing in flight. */
  readonly #byKey = new Map<string, Promise<RequestView>>();
  /** Per request filed: its key, and the filing that made it. */
  readonly #keyOf = new Map<string, { key: string; filing: Promise<RequestView> }>();

  constructor(
    private readonly client: CountersignClient,
    private readonly memory?: RequestMemory,
  ) {}

  /**
   * The request for `key`: the one already filed while it can still be approved (its
   * current state read from the server), otherwise a new one from `input`.
   */
  async ensure(key: string, input: () => CreateRequestInput): Promise<RequestView> {
    let known = this.#byKey.get(key);
    const remembered = known === undefined ? this.memory?.get(key) : undefined;
    if (remembered !== undefined) {
      known = this.client.getRequest(remembered);
      this.#byKey.set(key, known);
    }
    if (known !== undefined) {
      const filed = await known.catch(() => undefined);
      if (filed !== undefined) {
        // Another call may be reading it right now; both read the same state.
        const current = await this.client.getRequest(filed.id);
        if (!CLOSED.has(current.state)) return current;
      }
      // Two calls that both found it closed must still file one request between them.
      if (this.#byKey.get(key) !== known) return this.ensure(key, input);
    }
    const filing = this.client.createRequest(input());
    this.#byKey.set(key, filing);
    void filing
      .then((v) => {
        this.#keyOf.set(v.id, { key, filing });
        this.memory?.set(key, v.id);
      })
      .catch(() => undefined);
    // A failed filing is forgotten, so the next call tries again rather than repeating the error.
    filing.catch(() => {
      if (this.#byKey.get(key) === filing) this.#byKey.delete(key);
    });
    return filing;
  }

  /**
   * Forgets a request whose warrant can no longer be spent (used up, expired, revoked):
   * though it still reads as approved, the next call for its key files a new one.
   */
  retire(requestId: string): void {
    const known = this.#keyOf.get(requestId);
    if (known === undefined) return;
    this.#keyOf.delete(requestId);
    // Only while the key still stands for this request: never forget its replacement.
    if (this.#byKey.get(known.key) === known.filing) this.#byKey.delete(known.key);
  }

  /**
   * Polls a pending request until it is decided, `waitMs` pass or `signal` aborts,
   * telling `progress` whenever the count of approvals changes.
   */
  async wait(
    view: RequestView,
    o: {
      readonly waitMs: number;
      readonly intervalMs: number;
      readonly signal: AbortSignal;
      readonly progress: (view: RequestView) => Promise<void>;
    },
  ): Promise<RequestView> {
    const deadline = Date.now() + o.waitMs;
    let current = view;
    let told = -1;
    while (current.state === 'pending' && !o.signal.aborted) {
      if (current.approvals !== told) {
        told = current.approvals;
        await o.progress(current);
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      // An abort ends the wait; the loop then sees it and stops.
      await sleep(Math.min(o.intervalMs, left), o.signal).catch(() => undefined);
      if (o.signal.aborted) break;
      current = await this.client.getRequest(current.id, { signal: o.signal });
    }
    return current;
  }
}
