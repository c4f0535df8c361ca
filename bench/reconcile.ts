import { reconcile } from '../src/reconcile/reconcile.js';
import { generateReconcileInput } from '../test/fixtures/reconcile-input.js';
import { now, progress, round, seconds, type Figure } from './util.js';

/** Peak RSS of this process so far, from the kernel's high-water mark. */
async function peakRssMb(): Promise<number> {
  const { readFileSync } = await import('node:fs');
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

/** The reconciler alone (pure, in-process) on generated state of growing size. */
export async function reconcileBenchmarks(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const times: number[] = [];
  for (const observations of [10_000, 100_000, 1_000_000]) {
    progress(`reconcile: 100000 grants against ${observations} observations`);
    const input = generateReconcileInput(100_000, observations, 42);
    global.gc?.();
    const start = now();
    const out = reconcile(input);
    const s = seconds(start);
    times.push(s);
    figures.push({
      key: `reconcile_100k_grants_${observations >= 1_000_000 ? '1m' : `${observations / 1000}k`}_obs_s`,
      label: `reconcile 100k grants × ${observations.toLocaleString('en-US')} observations (${out.raise.length} findings)`,
      value: round(s, 2),
      unit: 's',
      ...(observations === 1_000_000
        ? { goal: { target: 10, higherIsBetter: false, text: '< 10 s' } }
        : {}),
    });
  }
  figures.push({
    // `reconcile_peak_rss_mb` is the store pass's (reconcile-store.ts): this one holds the input.
    key: 'reconcile_pure_peak_rss_mb',
    label:
      'bench process peak RSS after the pure 1M-observation reconcile (generated input included)',
    value: round(await peakRssMb(), 0),
    unit: 'MB',
  });
  figures.push({
    key: 'reconcile_scaling_1m_vs_100k',
    label: 'time ratio 1M ÷ 100k observations (linear ≈ 10)',
    value: round((times[2] as number) / (times[1] as number), 2),
    unit: '×',
  });
  return figures;
}
