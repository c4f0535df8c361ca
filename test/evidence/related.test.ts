import { describe, expect, it } from 'vitest';
import type { EvidenceCheckCode } from '../../src/evidence/errors.js';
import type { VerificationReport } from '../../src/evidence/verify.js';
import { verifyBundle } from '../../src/evidence/verify.js';
import { buildFixture, T0 } from './fixture.js';
import type { FixtureEvent } from './fixture.js';

const NHI = 'svc:payments-api';
/** With both approvals, `warrant.issued` is the fourth event: odd leaves hold ours. */
const WARRANT_LEAF = 7;
const DECISION_LEAF = 5;

const failed = (r: VerificationReport): EvidenceCheckCode[] =>
  r.checks.filter((c) => !c.ok).map((c) => c.code);

const raised = (
  id: string,
  warrants: number[],
  links: FixtureEvent['links'] = { nhi: NHI },
): FixtureEvent => ({
  v: 1,
  type: 'finding.raised',
  at: T0,
  actor: 'countersign',
  links,
  data: {
    id,
    kind: 'SCOPE_EXCEEDED_OBSERVED',
    key: `SCOPE_EXCEEDED_OBSERVED|${NHI}|db-eu-1|db/customers|read`,
    target: 'db-eu-1',
    detail: 'read on db/customers held by svc:payments-api at db-eu-1 was observed',
    evidence: { warrants, redemptions: [], fulfilments: [], observations: [] },
  },
});

const moved = (id: string, type = 'finding.acknowledged'): FixtureEvent => ({
  v: 1,
  type,
  at: T0,
  actor: 'audra',
  links: { nhi: NHI },
  data: { id, kind: 'SCOPE_EXCEEDED_OBSERVED', key: 'k', reason: 'seen' },
});

const verified = async (extra: FixtureEvent[]): Promise<VerificationReport> => {
  const fx = await buildFixture({ extra: () => extra });
  return verifyBundle(fx.text);
};

describe('a bundle that carries findings naming no request', () => {
  it('passes when the finding cites its warrant, and shows where the finding stands', async () => {
    const report = await verified([raised('fnd_a', [WARRANT_LEAF]), moved('fnd_a')]);
    expect(failed(report)).toEqual([]);
    const link = report.checks.find((c) => c.code === 'REQUEST_LINK_MISMATCH');
    expect(link?.detail).toMatch(/2 event\(s\) of findings citing its warrant/);
    expect(report.custody.findings).toEqual([
      expect.objectContaining({
        id: 'fnd_a',
        kind: 'SCOPE_EXCEEDED_OBSERVED',
        state: 'acknowledged',
      }),
    ]);
  });

  it('fails REQUEST_LINK_MISMATCH when the finding cites another leaf of the request', async () => {
    const report = await verified([raised('fnd_a', [DECISION_LEAF])]);
    expect(failed(report)).toEqual(['REQUEST_LINK_MISMATCH']);
  });

  it('fails REQUEST_LINK_MISMATCH for a move of a finding the bundle does not raise', async () => {
    const report = await verified([raised('fnd_a', [WARRANT_LEAF]), moved('fnd_b')]);
    expect(failed(report)).toEqual(['REQUEST_LINK_MISMATCH']);
  });

  it('fails REQUEST_LINK_MISMATCH for a finding linked to another request, citing the warrant', async () => {
    const other = `sha256:${'0'.repeat(64)}`;
    const report = await verified([raised('fnd_a', [WARRANT_LEAF], { request: other, nhi: NHI })]);
    expect(failed(report)).toEqual(['REQUEST_LINK_MISMATCH']);
  });

  it('fails REQUEST_LINK_MISMATCH for an unlinked event of another kind beside such a finding', async () => {
    const report = await verified([
      raised('fnd_a', [WARRANT_LEAF]),
      { ...moved('fnd_a'), type: 'observation.recorded' },
    ]);
    expect(failed(report)).toEqual(['REQUEST_LINK_MISMATCH']);
  });
});
