import { describe, expect, it } from 'vitest';
import { renderCustody } from '../../src/evidence/render.js';
import { verifyBundle } from '../../src/evidence/verify.js';
import { buildFixture, T0 } from './fixture.js';
import type { FixtureEvent } from './fixture.js';

const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

/** One `fulfilment.recorded` event of the request, reported at `target`. */
const fulfilledAt =
  (target: string, data: Record<string, unknown> = {}) =>
  (ids: { requestId: string; warrantId: string }): FixtureEvent[] => [
    {
      v: 1,
      type: 'fulfilment.recorded',
      at: at(11),
      actor: 'deploy-eu',
      links: { request: ids.requestId, warrant: ids.warrantId },
      data: { target, phase: 'apply', outcome: 'success', ...data },
    },
  ];

describe('custodyOf', () => {
  describe('when the warrant names no target', () => {
    it('shows the gap at `default`, the one target decision 0036 says it approves', async () => {
      const fx = await buildFixture({ targets: [] });
      const report = await verifyBundle(fx.text);
      expect(report.custody.warrant?.targets).toEqual([]);
      expect(report.custody.gaps).toEqual([{ kind: 'target_unfulfilled', target: 'default' }]);
      expect(renderCustody(report)).toContain(
        'approved target default has no successful fulfilment',
      );
    });

    it('clears that gap with a successful apply fulfilment at `default`', async () => {
      const fx = await buildFixture({ targets: [], extra: fulfilledAt('default') });
      expect((await verifyBundle(fx.text)).custody.gaps).toEqual([]);
    });

    it('keeps the gap when the fulfilment is at a named target, or takes the grant away', async () => {
      for (const extra of [fulfilledAt('db-eu-1'), fulfilledAt('default', { phase: 'revoke' })]) {
        const fx = await buildFixture({ targets: [], extra });
        expect((await verifyBundle(fx.text)).custody.gaps).toEqual([
          { kind: 'target_unfulfilled', target: 'default' },
        ]);
      }
    });
  });
});
