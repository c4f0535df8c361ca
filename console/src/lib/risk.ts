/** Words for the risk flags of the contract (`riskFlags` of the review and list answers). */

export const RISK_LABELS: Readonly<Record<string, string>> = {
  PRODUCTION: 'Production',
  WILDCARD_SCOPE: 'Wildcard in scope',
  WINDOW_NEAR_MAX: 'Window near policy maximum',
  USES_NEAR_MAX: 'Uses near policy maximum',
  FIRST_TIME_RESOURCE: 'First time for this subject',
  EXECUTOR_IS_PRINCIPAL: 'Executor is a person, not a workload',
};

/** A label for any code, known or not (an unknown code is shown as it is). */
export function riskLabel(code: string): string {
  return Object.hasOwn(RISK_LABELS, code) ? (RISK_LABELS[code] as string) : code;
}

/** Production and wildcards first, then the rest in the order given. */
const ORDER = Object.keys(RISK_LABELS);

export function sortRisk<T extends { readonly code: string }>(flags: readonly T[]): T[] {
  const rank = (c: string): number => {
    const i = ORDER.indexOf(c);
    return i < 0 ? ORDER.length : i;
  };
  return [...flags].sort((a, b) => rank(a.code) - rank(b.code));
}

/** Age in words, e.g. `3 d 4 h`, `12 min`, `40 s`. */
export function ageText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A duration in milliseconds in words, e.g. `2h`, `1d 6h`, `90s`. */
export function durationText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms);
  const parts: string[] = [];
  let rest = Math.floor(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}
