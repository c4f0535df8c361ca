/**
 * Remembers tokens that already verified against one key ring, so a many-use warrant
 * presented again costs a map lookup instead of an Ed25519 verification and a parse. Only
 * successes are kept (a flood of bad tokens cannot evict good ones by failing), the
 * key is the exact token text with its expected `typ`, and the cache lives and dies
 * with its key ring: a rotation or revocation builds a new ring and an empty cache.
 */
export class VerifiedTokenCache<V> {
  readonly #entries = new Map<string, V>();

  constructor(private readonly maxEntries = 4096) {}

  get(typ: string, token: string): V | undefined {
    const key = `${typ}\n${token}`;
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      // Re-insert so that eviction drops the least recently used entry first.
      this.#entries.delete(key);
      this.#entries.set(key, hit);
    }
    return hit;
  }

  set(typ: string, token: string, value: V): void {
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(`${typ}\n${token}`, value);
  }

  get size(): number {
    return this.#entries.size;
  }
}
