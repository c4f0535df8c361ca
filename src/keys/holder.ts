import { generateSigningKey, KeyRing, type SigningKeyRecord } from './keyring.js';

/**
 * Holds the server's current {@link KeyRing} and the key-encryption key, so that a
 * rotation or revocation can mint a sealed key and swap the ring without a restart.
 * Everything else reads the ring through `ring`, never keeping one across requests.
 */
export class KeyRingHolder {
  #ring: KeyRing;
  #loadedFrom: string | null = null;
  readonly #kek: Uint8Array;

  constructor(ring: KeyRing, kek: Uint8Array) {
    this.#ring = ring;
    this.#kek = kek;
  }

  get ring(): KeyRing {
    return this.#ring;
  }

  /** A fresh active Ed25519 key, sealed under the KEK, not yet stored. */
  newKey(now: Date): Promise<SigningKeyRecord> {
    return generateSigningKey(this.#kek, now);
  }

  /** {@link reload} from the keys a store (or a transaction) holds now. */
  async refresh(keys: { list(): Promise<readonly SigningKeyRecord[]> }): Promise<void> {
    this.reload(await keys.list());
  }

  /** Replaces the ring with one loaded from `records` (the store's keys after a commit). */
  reload(records: readonly SigningKeyRecord[]): void {
    // Nodes re-read the key set periodically; an unchanged set keeps the ring, and with
    // it the cache of tokens already verified, instead of unsealing every key again.
    const from = JSON.stringify(records.map((r) => [r.kid, r.state, r.publicJwk, r.sealedPrivate]));
    if (from === this.#loadedFrom) return;
    this.#ring = KeyRing.load(records, this.#kek);
    this.#loadedFrom = from;
  }
}
