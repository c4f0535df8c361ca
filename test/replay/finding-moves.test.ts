import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import { StateReplay } from '../../src/replay/derive.js';

/** A finding event; a resolution is reconciliation's unless `by` names a person. */
const leaf = (type: string, id: string, by = 'countersign'): string =>
  canonicalJson({
    v: 1,
    type,
    at: '2030-01-01T00:00:00.000Z',
    actor: by,
    links: { nhi: 'agent:ops-bot' },
    data: {
      id,
      kind: 'EXPIRED_NOT_REVOKED',
      key: `EXPIRED_NOT_REVOKED|${id}|eu`,
      ...(type === 'finding.resolved' && by === 'countersign'
        ? { resolution: { by, reason: 'condition cleared: gone', automatic: true } }
        : { reason: 'fixed by hand' }),
    },
  });

/** The replayed state of one finding after `types`, and the events found illegal. */
function replay(types: readonly string[], by?: string) {
  const r = new StateReplay();
  types.forEach((type, i) =>
    r.apply(i, leaf(type, 'fnd_1', type === 'finding.resolved' ? by : undefined)),
  );
  const out = r.result();
  return { state: out.findings.get('fnd_1')?.state, illegal: out.illegal.map((e) => e.index) };
}

describe('the state replay of a finding', () => {
  it('takes a reopening of a resolved finding, and leaves it open', () => {
    expect(replay(['finding.raised', 'finding.resolved', 'finding.reopened'])).toEqual({
      state: 'open',
      illegal: [],
    });
  });

  it('takes a finding resolved, reopened and resolved again', () => {
    const types = ['finding.raised', 'finding.resolved', 'finding.reopened', 'finding.resolved'];
    expect(replay(types)).toEqual({ state: 'resolved', illegal: [] });
  });

  it('calls a reopening of a finding a person resolved illegal', () => {
    const types = ['finding.raised', 'finding.resolved', 'finding.reopened'];
    expect(replay(types, 'admin').illegal).toEqual([2]);
    expect(replay([...types, 'finding.resolved', 'finding.reopened']).illegal).toEqual([]);
  });

  it('calls a reopening of a finding that was never resolved illegal', () => {
    expect(replay(['finding.raised', 'finding.reopened']).illegal).toEqual([1]);
    expect(replay(['finding.raised', 'finding.acknowledged', 'finding.reopened']).illegal).toEqual([
      2,
    ]);
  });

  it('still calls any other move after resolution illegal', () => {
    expect(replay(['finding.raised', 'finding.resolved', 'finding.acknowledged']).illegal).toEqual([
      2,
    ]);
    expect(replay(['finding.raised', 'finding.resolved', 'finding.resolved']).illegal).toEqual([2]);
  });
});
