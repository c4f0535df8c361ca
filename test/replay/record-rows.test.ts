import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import {
  RecordMatcher,
  type DecisionRow,
  type FulfilmentRow,
  type ObservationRow,
  type RecordPage,
  type RedemptionRow,
} from '../../src/replay/compare-records.js';
import { StateReplay } from '../../src/replay/derive.js';

const AT = '2030-01-01T00:00:00.000Z';
const action = { resource: 'db/orders', permission: 'read', environment: 'staging' };
const links = { request: 'sha256:req1', warrant: 'wrt_1', nhi: 'agent:bot' };

const leaf = (type: string, actor: string, data: Record<string, unknown>, l = links) =>
  canonicalJson({ v: 1, type, at: AT, actor, links: l, data });

/** The log: one approval, one allowed and one denied redemption, a fulfilment, an observation. */
const LOG = [
  leaf('decision.approved', 'bob', {
    decision: {
      id: 'dec_1',
      requestId: 'sha256:req1',
      requestDigest: 'sha256:req1',
      approver: 'bob',
      decision: 'approve',
      reason: 'ok',
      at: AT,
      approverIdentity: { via: 'dev', principal: 'bob' },
    },
    policyVersion: '1',
    rule: 'r',
  }),
  leaf('redemption.allowed', 'deploy-eu', {
    receipt: { jti: 'rcp_1', warrant_id: 'wrt_1', use: 1, executor: 'deploy-eu', action },
    kid: 'k1',
  }),
  leaf('redemption.denied', 'deploy-eu', {
    code: 'ACTION_OUT_OF_SCOPE',
    action: { ...action, environment: 'prod' },
  }),
  leaf('fulfilment.recorded', 'deploy-eu', {
    id: 'ful_1',
    receiptId: 'rcp_1',
    target: 'eu',
    phase: 'apply',
    outcome: 'success',
    fingerprint: null,
    detail: null,
    afterWindow: false,
  }),
  leaf(
    'observation.recorded',
    'collector',
    { id: 'obs_1', target: 'eu', observedAt: AT, fact: { kind: 'grant', present: true } },
    { request: 'sha256:req1', warrant: 'wrt_1', nhi: 'agent:bot' },
  ),
];

const decision: DecisionRow = {
  id: 'dec_1',
  requestId: 'sha256:req1',
  requestDigest: 'sha256:req1',
  approver: 'bob',
  decision: 'approve',
  reason: 'ok',
  at: AT,
  // Stored as text in another key order: compared in canonical form.
  approverIdentity: '{"principal":"bob","via":"dev"}',
};
const allowed: RedemptionRow = {
  id: 'rcp_1',
  warrantId: 'wrt_1',
  outcome: 'allow',
  code: null,
  useNumber: 1,
  executor: 'deploy-eu',
  action: JSON.stringify(action),
  at: AT,
  idempotencyKey: null,
  event: 'entry 1',
};
const denied: RedemptionRow = {
  ...allowed,
  id: 'rcp_2',
  outcome: 'deny',
  code: 'ACTION_OUT_OF_SCOPE',
  useNumber: null,
  action: JSON.stringify({ ...action, environment: 'prod' }),
  event: 'entry 2',
};
const fulfilment: FulfilmentRow = {
  id: 'ful_1',
  requestId: 'sha256:req1',
  warrantId: 'wrt_1',
  receiptId: 'rcp_1',
  executor: 'deploy-eu',
  subject: 'agent:bot',
  target: 'eu',
  phase: 'apply',
  outcome: 'success',
  fingerprint: null,
  detail: null,
  event: 'entry 3',
};
const observation: ObservationRow = {
  id: 'obs_1',
  observer: 'collector',
  subject: 'agent:bot',
  target: 'eu',
  fact: '{"present":true,"kind":"grant"}',
  observedAt: AT,
  receivedAt: AT,
  event: 'entry 4',
};

interface Tables {
  decisions: DecisionRow[];
  redemptions: RedemptionRow[];
  fulfilments: FulfilmentRow[];
  observations: ObservationRow[];
}
const untouched = (): Tables => ({
  decisions: [decision],
  redemptions: [allowed, denied],
  fulfilments: [fulfilment],
  observations: [observation],
});

/** Every divergence of `tables` from LOG, as `record id: detail`. */
async function audit(tables: Tables, log = LOG): Promise<string[]> {
  const replay = new StateReplay();
  log.forEach((l, i) => replay.apply(i, l));
  const matcher = new RecordMatcher(replay.result().records, async (r) => log[r.index]!);
  const pages: RecordPage[] = [
    { table: 'decisions', rows: tables.decisions },
    { table: 'redemptions', rows: tables.redemptions },
    { table: 'fulfilments', rows: tables.fulfilments },
    { table: 'observations', rows: tables.observations },
  ];
  const found = [];
  for (const p of pages) found.push(...(await matcher.page(p)));
  return [...found, ...matcher.rest()].map((d) => `${d.kind} ${d.record} ${d.id}: ${d.detail}`);
}

describe('the state audit of the record tables', () => {
  describe('when every row is as its event wrote it', () => {
    it('finds nothing', async () => {
      expect(await audit(untouched())).toEqual([]);
    });
  });

  describe('when a decision is edited', () => {
    it('names the decision and each field its event contradicts', async () => {
      const t = untouched();
      t.decisions = [{ ...decision, approver: 'mallory', reason: 'looks fine' }];
      expect(await audit(t)).toEqual([
        'STATE_DIVERGES decision dec_1: decision dec_1 in the decisions table: approver is "mallory", the log says "bob"',
        'STATE_DIVERGES decision dec_1: decision dec_1 in the decisions table: reason is "looks fine", the log says "ok"',
      ]);
    });
  });

  describe('when a denied redemption is deleted', () => {
    it('names the denial by the entry that logged it', async () => {
      const t = untouched();
      t.redemptions = [allowed];
      expect(await audit(t)).toEqual([
        'STATE_DIVERGES redemption entry 2: the denied redemption logged at entry 2 is in the log but missing from the redemptions table',
      ]);
    });
  });

  describe('when a second row claims the event of a denial', () => {
    it('names the row the log does not explain', async () => {
      const t = untouched();
      t.redemptions = [allowed, denied, { ...denied, id: 'rcp_3' }];
      expect(await audit(t)).toEqual([
        'STATE_DIVERGES redemption rcp_3: redemption rcp_3 is in the redemptions table but not in the log',
      ]);
    });
  });

  describe('when an allowed redemption points at another event', () => {
    it('names the row and its event reference', async () => {
      const t = untouched();
      t.redemptions = [{ ...allowed, event: 'entry 3' }, denied];
      expect(await audit(t)).toEqual([
        'STATE_DIVERGES redemption rcp_1: redemption rcp_1 in the redemptions table: event is "entry 3", the log says "entry 1"',
      ]);
    });
  });

  describe('when a fulfilment is inserted that was never reported', () => {
    it('names the row the log does not explain', async () => {
      const t = untouched();
      t.fulfilments = [fulfilment, { ...fulfilment, id: 'ful_2', target: 'us' }];
      expect(await audit(t)).toEqual([
        'STATE_DIVERGES fulfilment ful_2: fulfilment ful_2 is in the fulfilments table but not in the log',
      ]);
    });
  });

  describe('when a fulfilment outcome is changed', () => {
    it('names the fulfilment and its outcome', async () => {
      const t = untouched();
      t.fulfilments = [{ ...fulfilment, outcome: 'failure' }];
      expect(await audit(t)).toEqual([
        'STATE_DIVERGES fulfilment ful_1: fulfilment ful_1 in the fulfilments table: outcome is "failure", the log says "success"',
      ]);
    });
  });

  describe('when an observation fact is changed', () => {
    it('says the fact differs, without quoting it', async () => {
      const t = untouched();
      t.observations = [{ ...observation, fact: '{"kind":"grant","present":false}' }];
      expect(await audit(t)).toEqual([
        "STATE_DIVERGES observation obs_1: observation obs_1 in the observations table: fact differs from the log's",
      ]);
    });
  });

  describe('when the redemptions were written before their rows named events (migration 008)', () => {
    const unlinked = (t: Tables): Tables => ({
      ...t,
      redemptions: t.redemptions.map((r) => ({ ...r, event: null })),
    });

    it('finds nothing: the allowed row by its receipt, the denial by what it records', async () => {
      expect(await audit(unlinked(untouched()))).toEqual([]);
    });

    it('still names an edited denial, and the logged one it no longer matches', async () => {
      const t = unlinked(untouched());
      t.redemptions = [t.redemptions[0]!, { ...t.redemptions[1]!, code: 'SCOPE_EXCEEDED' }];
      expect(await audit(t)).toEqual([
        'STATE_DIVERGES redemption rcp_2: redemption rcp_2 is in the redemptions table but not in the log',
        'STATE_DIVERGES redemption entry 2: the denied redemption logged at entry 2 is in the log but missing from the redemptions table',
      ]);
    });

    it('still names an edited allowed row', async () => {
      const t = unlinked(untouched());
      t.redemptions = [{ ...t.redemptions[0]!, executor: 'mallory' }, t.redemptions[1]!];
      expect(await audit(t)).toEqual([
        'STATE_DIVERGES redemption rcp_1: redemption rcp_1 in the redemptions table: executor is "mallory", the log says "deploy-eu"',
      ]);
    });
  });

  describe('when a decision row is deleted', () => {
    it('names the decision the log holds', async () => {
      const t = untouched();
      t.decisions = [];
      expect(await audit(t)).toEqual([
        'STATE_DIVERGES decision dec_1: decision dec_1 is in the log but missing from the decisions table',
      ]);
    });
  });

  describe('when a denial is still queued', () => {
    it('matches its row by the queued event it names', async () => {
      const replay = new StateReplay();
      LOG.slice(0, 2).forEach((l, i) => replay.apply(i, l));
      replay.apply(-1, LOG[2]!, 42);
      const matcher = new RecordMatcher(replay.result().records, async () => LOG[2]!);
      const page: RecordPage = {
        table: 'redemptions',
        rows: [allowed, { ...denied, event: 'queued event 42' }],
      };
      expect([...(await matcher.page(page)), ...matcher.rest()].map((d) => d.detail)).toEqual([
        'decision dec_1 is in the log but missing from the decisions table',
      ]);
    });
  });
});
