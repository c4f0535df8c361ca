/** Time comes in through this interface so that every expiry check can be tested without sleeping. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/**
 * A clock that runs with the system clock plus an adjustable offset. Dev and
 * test servers use it so end-to-end tests can move past a warrant's window.
 */
export class OffsetClock implements Clock {
  #offsetMs = 0;
  constructor(private readonly base: Clock = systemClock) {}
  now(): Date {
    return new Date(this.base.now().getTime() + this.#offsetMs);
  }
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
  /** Jumps to `t`, forward or back: a test can step the clock backwards too. */
  set(t: Date): void {
    this.#offsetMs = t.getTime() - this.base.now().getTime();
  }
  get offsetMs(): number {
    return this.#offsetMs;
  }
}

/** A clock frozen at one instant until advanced: for unit tests. */
export class ManualClock implements Clock {
  #t: number;
  constructor(start: Date | string | number = '2026-01-01T00:00:00Z') {
    this.#t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.#t);
  }
  advance(ms: number): void {
    this.#t += ms;
  }
  set(t: Date | string | number): void {
    this.#t = new Date(t).getTime();
  }
}

/** Whole seconds since the epoch, as JWT `iat`/`nbf`/`exp` use. */
export function epochSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}
