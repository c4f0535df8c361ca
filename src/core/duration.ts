import { CountersignError, type CoreErrorCode } from './errors.js';

const UNITS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses `90s`, `15m`, `2h`, `1d` or `1h30m` into milliseconds. */
export function parseDuration(text: string): number {
  const re = /(\d+)([smhd])/gy;
  let total = 0;
  let matched = 0;
  for (const m of text.matchAll(re)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    matched += m[0].length;
  }
  if (text.length === 0 || matched !== text.length || !Number.isSafeInteger(total) || total <= 0) {
    throw new CountersignError<CoreErrorCode>(
      'VALIDATION_FAILED',
      `invalid duration ${JSON.stringify(text.slice(0, 32))}: use forms like 30m, 2h or 1d`,
    );
  }
  return total;
}

export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.floor(ms / 1000);
  for (const [u, s] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= s) {
      parts.push(`${Math.floor(rest / s)}${u}`);
      rest %= s;
    }
  }
  return parts.join('') || '0s';
}
