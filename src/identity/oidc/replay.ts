import type { Clock } from '../../core/clock.js';
import { epochSeconds } from '../../core/clock.js';
import { tokenError } from './errors.js';
import type { VerifiedIdentity } from './identity.js';

/**
 * Entries outlive their token's `exp` by this much, which bounds the verifier's clock
 * tolerance: a token that still verifies is still remembered.
 */
export const REPLAY_RETENTION_LEEWAY_SECONDS = 300;

/**
 * Remembers which tokens have been redeemed. `seen` must be atomic: of two concurrent
 * calls with the same `(issuer, jti)`, exactly one answers false.
 *
 * {@link MemoryReplayGuard} serves one process; {@link SharedReplayGuard} keeps its
 * records in the database every node shares, so a token spent at one node is refused
 * at all of them.
 */
export interface ReplayGuard {
  /** True when `(issuer, jti)` was already recorded; otherwise records it until `exp`. */
  seen(issuer: string, jti: string, exp: number): Promise<boolean>;
}

export interface MemoryReplayGuardOptions {
  readonly clock: Clock;
  /** Most entries held at once. Default 100 000. */
  readonly maxEntries?: number;
}

/**
 * A bounded in-memory {@link ReplayGuard}. When full it first evicts expired entries;
 * if every entry is still live it refuses with `REPLAY_CACHE_FULL` rather than forget
 * one, because forgetting a live entry would let that token be replayed.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly #clock: Clock;
  readonly #max: number;
  /** key → epoch second after which the entry may be forgotten. */
  readonly #entries = new Map<string, number>();

  constructor(options: MemoryReplayGuardOptions) {
    this.#clock = options.clock;
    this.#max = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(this.#max) || this.#max < 1) {
      throw new RangeError('maxEntries must be a positive integer');
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  seen(issuer: string, jti: string, exp: number): Promise<boolean> {
    const now = epochSeconds(this.#clock.now());
    const key = JSON.stringify([issuer, jti]);
    const until = this.#entries.get(key);
    if (until !== undefined && until >= now) return Promise.resolve(true);
    if (until === undefined && this.#entries.size >= this.#max) this.#sweep(now);
    if (until === undefined && this.#entries.size >= this.#max) {
      return Promise.reject(
        tokenError('REPLAY_CACHE_FULL', 'the replay guard is full of unexpired tokens'),
      );
    }
    this.#entries.set(key, exp + REPLAY_RETENTION_LEEWAY_SECONDS);
    return Promise.resolve(false);
  }

  #sweep(now: number): void {
    for (const [key, until] of this.#entries) if (until < now) this.#entries.delete(key);
  }
}

/** Where a {@link SharedReplayGuard} keeps its records: the store, on any dialect. */
export interface SpentTokenRecords {
  /**
   * Records `(issuer, jti)` until `expiresAt` unless a record of it is live at `now`;
   * true when it recorded. Must be one atomic step across every node sharing the records.
   */
  spendToken(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes the records that expired before `before`; returns how many. */
  forgetSpentTokens(before: number): Promise<number>;
}

/**
 * A {@link ReplayGuard} over records shared by several nodes. Unbounded, unlike the
 * memory guard: the database holds every live token, and {@link prune} (run
 * periodically) deletes the expired ones, which only saves space, since an expired
 * record is taken over rather than refused.
 */
export class SharedReplayGuard implements ReplayGuard {
  constructor(
    private readonly records: SpentTokenRecords,
    private readonly clock: Clock,
  ) {}

  async seen(issuer: string, jti: string, exp: number): Promise<boolean> {
    const now = epochSeconds(this.clock.now());
    return !(await this.records.spendToken(
      issuer,
      jti,
      exp + REPLAY_RETENTION_LEEWAY_SECONDS,
      now,
    ));
  }

  prune(): Promise<number> {
    return this.records.forgetSpentTokens(epochSeconds(this.clock.now()));
  }
}

export interface ConsumeOptions {
  /**
   * Refuse tokens without a `jti` (`TOKEN_CLAIM_INVALID`, claim `jti`). Default true:
   * without a unique id, two honest tokens minted in the same second could be told
   * apart only by their bytes. When false, a token without `jti` is remembered by the
   * digest of its bytes, which still stops the same token being redeemed twice.
   */
  readonly requireJti?: boolean;
}

/**
 * Spends a workload token: the first redemption of a token passes, every later one
 * fails with `TOKEN_REPLAYED`. Call it at redemption, before the warrant check, so a
 * token is spent even when the redemption is then denied.
 *
 * Kubernetes note: the kubelet rereads and reuses a projected token until it rotates
 * it, so a pod must request a fresh token (TokenRequest API) for each redemption.
 */
export async function consumeToken(
  guard: ReplayGuard,
  identity: Pick<VerifiedIdentity, 'issuer' | 'issuerName' | 'jti' | 'tokenDigest' | 'exp'>,
  options: ConsumeOptions = {},
): Promise<void> {
  if (identity.jti === null && (options.requireJti ?? true)) {
    throw tokenError('TOKEN_CLAIM_INVALID', 'a token redeemed once needs a "jti" claim', {
      claim: 'jti',
      issuerName: identity.issuerName,
      reason: 'missing',
    });
  }
  // Prefixed so that a `jti` can never collide with the digest of a jti-less token.
  const id = identity.jti === null ? `digest:${identity.tokenDigest}` : `jti:${identity.jti}`;
  if (await guard.seen(identity.issuer, id, identity.exp)) {
    throw tokenError('TOKEN_REPLAYED', 'this token was already redeemed', {
      claim: 'jti',
      issuerName: identity.issuerName,
    });
  }
}
