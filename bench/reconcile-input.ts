import type { NhiId, PrincipalId, ReceiptId, RequestId, WarrantId } from '../src/core/ids.js';
import type { Scope } from '../src/core/scope.js';
import type { Fulfilment, FulfilmentId } from '../src/fulfilment/fulfilment.js';
import type { Observation, ObservationId } from '../src/observation/observation.js';
import type {
  ApprovedGrant,
  DenialRecord,
  ReconcileInput,
  RedemptionRecord,
} from '../src/reconcile/input.js';
import type { RequestAction } from '../src/core/vocabulary.js';

/** mulberry32: a small, fast, seeded PRNG, so a seed always yields the same input. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const TARGETS: readonly string[] = ['eu', 'us', 'ap'];
const RESOURCES = ['db/orders', 'db/invoices', 'db/customers', 'queue/payments', 'bucket/reports'];
const PERMISSIONS = ['read', 'write', 'admin'];
const BASE = Date.parse('2026-01-01T00:00:00.000Z');
const HOUR = 3_600_000;

const hex64 = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * A realistic, seeded reconcile input: `grants` warrants over about `grants / 4`
 * subjects and three targets, a fulfilment report for most approved targets, and
 * `observations` collector facts that mostly agree with what was approved and
 * claimed: about 3% show an unapproved version, a grant outside the scope or a
 * wildcard, and grants are mostly seen gone after their window. A few warrants are
 * refused repeatedly. `now` lies after most windows, so every rule has work to do.
 * Used by the tests and the benchmark; the same seed always gives the same input.
 */
export function generateReconcileInput(
  grants: number,
  observations: number,
  seed: number,
): ReconcileInput {
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const subjects = Math.max(1, Math.ceil(grants / 4));
  const span = Math.max(1, grants) * 60_000;
  const now = new Date(BASE + span + 2 * HOUR);

  const gs: ApprovedGrant[] = [];
  const fs: Fulfilment[] = [];
  const rs: RedemptionRecord[] = [];
  /** Per (warrant index, target): when the executor revoked the grant, if it did. */
  const revokedAt = new Map<string, number>();
  /** Per (subject, target): the claimed secret versions, to derive what is observed. */
  const timeline = new Map<string, { at: number; fingerprint: string }[]>();
  for (let i = 0; i < grants; i++) {
    const warrantId = `wrt_${seed}_${i}`;
    const action: RequestAction = rnd() < 0.5 ? 'grant' : rnd() < 0.9 ? 'rotate' : 'custom';
    const start = BASE + int(span);
    const end = start + (1 + int(4)) * HOUR;
    const targets = rnd() < 0.1 ? [] : TARGETS.filter(() => rnd() < 0.7);
    const scope: Scope = [{ resource: pick(RESOURCES), permissions: [pick(PERMISSIONS)] }];
    const g: ApprovedGrant = {
      requestId: hex64(i + 1),
      warrantId,
      subject: `svc:nhi-${int(subjects)}`,
      action,
      scope,
      environment: 'prod',
      targets,
      notBefore: iso(start),
      notAfter: iso(end),
      revokedAt: rnd() < 0.03 ? iso(start + HOUR / 2) : null,
    };
    gs.push(g);
    for (const target of targets.length === 0 ? ['default'] : targets) {
      if (rnd() < 0.05) continue;
      rs.push({
        id: String(rs.length + 1),
        warrantId,
        receiptId: `rcp_${seed}_${i}`,
        target: targets.length === 0 ? null : target,
        at: iso(start),
      });
      const base = {
        requestId: g.requestId as RequestId,
        warrantId: warrantId as WarrantId,
        receiptId: `rcp_${seed}_${i}` as ReceiptId,
        executor: 'deployer' as PrincipalId,
        subject: g.subject as NhiId,
        target,
        detail: null,
      };
      const at = start + int(20) * 60_000;
      const fingerprint = hex64(1_000_000 + i * 4 + TARGETS.indexOf(target) + 1);
      const ok = rnd() < 0.97;
      fs.push({
        ...base,
        id: `ful_${seed}_${i}_${target}` as FulfilmentId,
        phase: 'apply',
        outcome: ok ? 'success' : 'failure',
        fingerprint,
        at: iso(at),
      });
      if (ok && action !== 'grant') {
        const key = `${g.subject}|${target}`;
        timeline.set(key, [...(timeline.get(key) ?? []), { at, fingerprint }]);
      }
      if (!(ok && action === 'grant' && rnd() < 0.9)) continue;
      const revoked = end + int(30) * 60_000;
      revokedAt.set(`${i}|${target}`, revoked);
      fs.push({
        ...base,
        id: `ful_${seed}_${i}_${target}_r` as FulfilmentId,
        phase: 'revoke',
        outcome: 'success',
        fingerprint: null,
        at: iso(revoked),
      });
    }
  }
  for (const claims of timeline.values()) claims.sort((a, b) => a.at - b.at);
  /** The version a collector sees at (subject, target) at time t: the latest claimed. */
  const versionAt = (subject: string, target: string, t: number): string => {
    const claims = timeline.get(`${subject}|${target}`) ?? [];
    let current = hex64(3_000_000 + Number(subject.slice('svc:nhi-'.length)));
    for (const c of claims) {
      if (c.at > t) break;
      current = c.fingerprint;
    }
    return current;
  };

  const os: Observation[] = [];
  for (let j = 0; j < observations && gs.length > 0; j++) {
    const i = int(gs.length);
    const g = gs[i] as ApprovedGrant;
    const target = pick(g.targets.length === 0 ? ['default'] : g.targets);
    const start = Date.parse(g.notBefore);
    const end = Date.parse(g.notAfter);
    const t = Math.min(now.getTime(), start - HOUR / 2 + int(end - start + 3 * HOUR));
    const odd = rnd() < 0.03;
    let fact: Observation['fact'];
    if (g.action === 'grant') {
      const entry = g.scope[0] as Scope[number];
      const gone = t > (revokedAt.get(`${i}|${target}`) ?? Number.POSITIVE_INFINITY);
      fact = {
        kind: 'grant',
        resource: odd ? pick(['db/*', ...RESOURCES]) : entry.resource,
        permission: odd ? pick(PERMISSIONS) : (entry.permissions[0] as string),
        present: !gone,
      };
    } else {
      const current = versionAt(g.subject, target, t);
      fact = { kind: 'secret_version', fingerprint: odd ? hex64(2_000_000 + j) : current };
    }
    os.push({
      id: `obs_${seed}_${j}` as ObservationId,
      observer: 'collector' as PrincipalId,
      subject: g.subject as NhiId,
      target,
      observedAt: iso(t),
      fact,
      receivedAt: iso(t + 1_000),
    });
  }

  const ds: DenialRecord[] = [];
  for (let d = 0; d < Math.ceil(grants / 10); d++) {
    const g = gs[int(Math.min(gs.length, Math.ceil(grants / 50)))];
    if (!g) break;
    ds.push({
      id: `den_${seed}_${d}`,
      warrantId: g.warrantId,
      requestId: g.requestId,
      code: pick(['SCOPE_EXCEEDED', 'EXECUTOR_MISMATCH', 'WARRANT_EXPIRED']),
      executor: `caller-${int(3)}`,
      at: iso(BASE + int(span)),
    });
  }

  return {
    now,
    grants: gs,
    fulfilments: fs,
    observations: os,
    redemptions: rs,
    denials: ds,
    existing: new Map(),
  };
}
