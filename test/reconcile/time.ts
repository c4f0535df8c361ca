/** Fixed instants: tests never read the clock. */
export const T0 = Date.parse('2026-03-01T12:00:00.000Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** ISO time `ms` after {@link T0}. */
export const iso = (ms: number): string => new Date(T0 + ms).toISOString();
/** A `Date` `ms` after {@link T0}. */
export const when = (ms: number): Date => new Date(T0 + ms);
