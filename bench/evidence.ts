import { verifyBundle } from '../src/evidence/index.js';
import { exportEvidence } from '../src/service/evidence.js';
import { integrateBatch } from '../src/service/integrate.js';
import { ringVerifierKeys } from '../src/service/log-keys.js';
import { redeem } from '../src/service/redeem.js';
import { approvedWarrant, benchContext, deployEu, ORIGIN } from './chain.js';
import { now, progress, round, seconds, tempDir, type Figure } from './util.js';

/** Offline verification of a real bundle exported by the service, bundles per second. */
export async function evidenceBenchmarks(): Promise<Figure[]> {
  const t = tempDir('evidence');
  try {
    const ctx = await benchContext(t.dir);
    const { requestId, token } = await approvedWarrant(ctx, 1, 3);
    const action = {
      resource: 'db/orders',
      permission: 'read',
      environment: 'staging',
      target: 'eu',
    };
    await redeem(ctx, deployEu, { warrant: token, action });
    await redeem(ctx, deployEu, { warrant: token, action });
    await integrateBatch({ store: ctx.store, clock: ctx.clock, keys: ctx.keys, origin: ORIGIN });
    const bundle = JSON.stringify(await exportEvidence(ctx, requestId, ORIGIN));
    const trust = {
      logVerifierKey: ringVerifierKeys(ctx.keys(), ORIGIN)[0] as string,
      jwks: ctx.keys().jwks(),
    };
    await ctx.store.close();
    const first = await verifyBundle(bundle, trust);
    if (!first.ok) throw new Error('bench bundle does not verify');
    progress(`evidence: verifying a ${bundle.length}-byte bundle repeatedly`);
    for (let i = 0; i < 100; i++) await verifyBundle(bundle, trust);
    const n = 2000;
    const start = now();
    for (let i = 0; i < n; i++) await verifyBundle(bundle, trust);
    const s = seconds(start);
    return [
      {
        key: 'evidence_verify_per_s',
        label: `offline bundle verifications/s (${first.checks.length} checks, ${bundle.length} bytes)`,
        value: round(n / s, 0),
        unit: '/s',
        goal: { target: 1000, higherIsBetter: true, text: '≥ 1,000/s' },
      },
    ];
  } finally {
    t.cleanup();
  }
}
