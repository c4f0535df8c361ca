import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { Principal } from '../../identity/principal.js';
import { LOGIN_TTL_MS, LoginSealer, type PendingLogin } from './sealed-login.js';

/** A signed-in console user, held on the server; the browser holds only its random id. */
export interface ConsoleSession {
  readonly principal: Principal;
  readonly mode: 'dev' | 'oidc';
  /** When the person signed in at their issuer (`auth_time`), or at the dev page. */
  readonly signedInAt: Date | null;
  readonly createdAt: number;
  lastSeenAt: number;
}

export interface SessionLimits {
  readonly idleMs: number;
  readonly maxMs: number;
}

/** Bounds on what a caller can make us remember. */
const MAX_SESSIONS = 100_000;
const MAX_TAKEN_LOGINS = 100_000;

/**
 * Console sessions in this process's memory. A node restart signs everyone out, and on
 * several nodes a session works only on the node that made it (sticky routing); both
 * are recorded in decision 0023 as the cost of keeping no session secret in the store.
 *
 * Every read checks the idle and absolute limits against the injected clock, so an
 * expired session is gone the moment it is asked for, whatever the sweep has done.
 */
export class SessionStore {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #logins = new LoginSealer();
  /** The states of callbacks already taken, until their sealed sign-ins would be stale. */
  readonly #taken = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    readonly limits: SessionLimits,
  ) {}

  /** Starts a session and returns its id: 32 random bytes, never derived from the principal. */
  create(principal: Principal, mode: ConsoleSession['mode'], signedInAt: Date | null): string {
    const now = this.clock.now().getTime();
    this.#sweep(now);
    if (this.#sessions.size >= MAX_SESSIONS) {
      // Drop the oldest: Map iteration follows insertion order.
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    const id = randomBytes(32).toString('base64url');
    this.#sessions.set(id, { principal, mode, signedInAt, createdAt: now, lastSeenAt: now });
    return id;
  }

  /** The live session of `id`, its idle timer restarted; null when unknown or expired. */
  touch(id: string | undefined): ConsoleSession | null {
    if (id === undefined) return null;
    const s = this.#sessions.get(id);
    if (!s) return null;
    const now = this.clock.now().getTime();
    if (this.#expired(s, now)) {
      this.#sessions.delete(id);
      return null;
    }
    s.lastSeenAt = now;
    return s;
  }

  /** When the session ends if it stays idle from now: the earlier of the two limits. */
  expiresAt(s: ConsoleSession): Date {
    return new Date(Math.min(s.lastSeenAt + this.limits.idleMs, s.createdAt + this.limits.maxMs));
  }

  destroy(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(id);
  }

  /** Begins a sign-in: the value of the browser's login cookie, which alone carries it. */
  beginLogin(state: string, login: Omit<PendingLogin, 'startedAt'>): string {
    return this.#logins.seal(state, { ...login, startedAt: this.clock.now().getTime() });
  }

  /**
   * The sign-in the browser's login cookie carries for `state`; null when it is not one
   * this process began, is another's, or is stale. The callback clears the cookie, and
   * the issuer's code inside the callback can be exchanged once.
   */
  takeLogin(cookie: string, state: string): PendingLogin | null {
    const now = this.clock.now().getTime();
    const login = this.#logins.open(cookie, state, now);
    if (login === null || this.#taken.has(state)) return null;
    // A flood of its own sign-ins can only push the oldest out of this table early, which
    // leaves a replay to the issuer's refusal of a code used twice; it blocks no one.
    for (const [s, until] of this.#taken) {
      if (until > now && this.#taken.size < MAX_TAKEN_LOGINS) break;
      this.#taken.delete(s);
    }
    this.#taken.set(state, login.startedAt + LOGIN_TTL_MS);
    return login;
  }

  #expired(s: ConsoleSession, now: number): boolean {
    return now - s.lastSeenAt >= this.limits.idleMs || now - s.createdAt >= this.limits.maxMs;
  }

  #sweep(now: number): void {
    for (const [id, s] of this.#sessions) if (this.#expired(s, now)) this.#sessions.delete(id);
  }
}
