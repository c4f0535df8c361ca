import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { Principal } from '../../identity/principal.js';

/** A signed-in console user, held on the server; the browser holds only its random id. */
export interface ConsoleSession {
  readonly principal: Principal;
  readonly mode: 'dev' | 'oidc';
  /** When the person signed in at their issuer (`auth_time`), or at the dev page. */
  readonly signedInAt: Date | null;
  readonly createdAt: number;
  lastSeenAt: number;
}

/** An authorization request in flight, by its `state`: what its callback must match. */
export interface PendingLogin {
  readonly issuerName: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly redirectUri: string;
  readonly returnTo: string;
  readonly fresh: boolean;
  readonly startedAt: number;
}

export interface SessionLimits {
  readonly idleMs: number;
  readonly maxMs: number;
}

/** How long a person may take at their issuer before the callback is refused. */
const LOGIN_TTL_MS = 10 * 60_000;
/** Bounds on what an unauthenticated caller can make us remember. */
const MAX_PENDING_LOGINS = 10_000;
const MAX_SESSIONS = 100_000;

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
  readonly #logins = new Map<string, PendingLogin>();

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

  beginLogin(state: string, login: Omit<PendingLogin, 'startedAt'>): void {
    const now = this.clock.now().getTime();
    this.#sweep(now);
    if (this.#logins.size >= MAX_PENDING_LOGINS) {
      const oldest = this.#logins.keys().next().value;
      if (oldest !== undefined) this.#logins.delete(oldest);
    }
    this.#logins.set(state, { ...login, startedAt: now });
  }

  /** The login of `state`, removed so that a callback can be used once; null when stale. */
  takeLogin(state: string): PendingLogin | null {
    const login = this.#logins.get(state);
    if (!login) return null;
    this.#logins.delete(state);
    return this.clock.now().getTime() - login.startedAt > LOGIN_TTL_MS ? null : login;
  }

  #expired(s: ConsoleSession, now: number): boolean {
    return now - s.lastSeenAt >= this.limits.idleMs || now - s.createdAt >= this.limits.maxMs;
  }

  #sweep(now: number): void {
    for (const [id, s] of this.#sessions) if (this.#expired(s, now)) this.#sessions.delete(id);
    for (const [state, l] of this.#logins) {
      if (now - l.startedAt > LOGIN_TTL_MS) this.#logins.delete(state);
    }
  }
}
