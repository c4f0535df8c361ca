import { expect } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import type { TestServer } from '../helpers/server.js';
import { settledLog } from '../helpers/log.js';
import { exited, issueMany, redemptionBody, type IssuedWarrant } from './support.js';

/**
 * The rounds of the crash test, shared by its SQLite and PostgreSQL runs: 2,000
 * concurrent redemptions over the issued warrants, the server killed mid-round.
 */
export const WARRANTS = 400;
const PER_ROUND = 2000;
/** Rounds that end in SIGKILL once this many allows were acknowledged; the last runs out. */
export const KILL_AFTER = [120, 80, null] as const;

export interface Round {
  attempts: number;
  allowed: Array<{ warrantId: string; jti: string; claims: string }>;
  other: Map<number, number>;
  failed: number;
  shed: number;
}

/** The receipt's claims, in canonical JSON so they compare with what the log holds. */
export function receiptClaims(receipt: string): { jti: string; claims: string } {
  const payload = receipt.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti: string };
  return { jti: claims.jti, claims: canonicalJson(claims) };
}

/** 2,000 concurrent redemptions, five per warrant; SIGKILL once `killAfter` allows are in. */
export async function round(
  s: TestServer,
  warrants: readonly IssuedWarrant[],
  killAfter: number | null,
): Promise<Round> {
  const r: Round = { attempts: 0, allowed: [], other: new Map(), failed: 0, shed: 0 };
  const perWarrant = PER_ROUND / warrants.length;
  const all = Array.from({ length: PER_ROUND }, async (_, i) => {
    const w = warrants[i % warrants.length] as IssuedWarrant;
    // Spread the burst over a few ms so the kill lands among commits, not before them.
    await new Promise((ok) => setTimeout(ok, Math.floor(i / perWarrant / 8)));
    r.attempts += 1;
    try {
      let res = await s.http('POST', '/v1/redemptions', {
        as: 'deploy-eu',
        body: redemptionBody(w.token),
      });
      // Load shedding (503 OVERLOADED) refuses before any state is read: try again shortly.
      for (let retry = 0; res.status === 503 && retry < 50; retry++) {
        r.shed += 1;
        await new Promise((ok) => setTimeout(ok, 20 + Math.random() * 80));
        res = await s.http('POST', '/v1/redemptions', {
          as: 'deploy-eu',
          body: redemptionBody(w.token),
        });
      }
      if (res.status === 200) {
        r.allowed.push({ warrantId: w.warrantId, ...receiptClaims(res.body.receipt as string) });
        expect(res.body.receiptId).toBe(r.allowed.at(-1)?.jti);
        // Kill from the response callback itself, so the kill lands while commits are in flight.
        if (r.allowed.length === killAfter) s.proc.kill('SIGKILL');
      } else {
        r.other.set(res.status, (r.other.get(res.status) ?? 0) + 1);
      }
    } catch {
      r.failed += 1; // reset by the kill: not acknowledged
    }
  });
  await Promise.all(all);
  if (killAfter !== null) {
    s.proc.kill('SIGKILL'); // in case fewer than `killAfter` were allowed
    await exited(s);
  }
  return r;
}

export interface StoredWarrant {
  readonly id: string;
  readonly uses: number;
  readonly max_uses: number;
}
/** A `redemption.allowed` event: its warrant, its receipt's jti and the receipt's claims as JSON. */
export interface AllowEvent {
  readonly warrant_id: string;
  readonly jti: string;
  readonly claims: string;
}

/**
 * Issues the warrants, runs the rounds with a SIGKILL and a restart after each but the
 * last, then checks from the database that no warrant was spent past its uses and that
 * every acknowledged receipt is in the log with exactly its claims. `server.current` is
 * the running server throughout, for the caller to stop whatever happens.
 */
export async function crashScenario(
  label: string,
  server: { current: TestServer },
  start: () => Promise<TestServer>,
  db: { warrants(): Promise<StoredWarrant[]>; allowEvents(): Promise<AllowEvent[]> },
): Promise<void> {
  let s = server.current;
  const t0 = Date.now();
  const warrants = await issueMany(s, WARRANTS);
  console.log(`crash${label}: issued ${warrants.length} warrants in ${Date.now() - t0} ms`);
  const rounds: Round[] = [];
  let kills = 0;
  for (const killAfter of KILL_AFTER) {
    rounds.push(await round(s, warrants, killAfter));
    if (killAfter !== null) {
      kills += 1;
      s = await start();
      server.current = s;
    }
  }
  await settledLog(s);

  const attempts = rounds.reduce((n, r) => n + r.attempts, 0);
  const acked = rounds.flatMap((r) => r.allowed);
  const capacity = warrants.reduce((n, w) => n + w.maxUses, 0);
  console.log(
    `crash${label}: ${attempts} redemption attempts over ${warrants.length} warrants ` +
      `(capacity ${capacity} uses), ${acked.length} allows acknowledged, ` +
      `${rounds.reduce((n, r) => n + r.failed, 0)} cut off, ` +
      `${rounds.reduce((n, r) => n + r.shed, 0)} shed and retried, ${kills} kills survived; ` +
      `per round allows ${rounds.map((r) => r.allowed.length).join('/')}`,
  );
  expect(kills).toBe(2);

  const ids = new Set(warrants.map((w) => w.warrantId));
  const stored = (await db.warrants()).filter((w) => ids.has(w.id));
  expect(stored).toHaveLength(WARRANTS);
  const events = await db.allowEvents();
  const eventsPer = new Map<string, number>();
  for (const e of events) eventsPer.set(e.warrant_id, (eventsPer.get(e.warrant_id) ?? 0) + 1);
  const ackedPer = new Map<string, number>();
  for (const a of acked) ackedPer.set(a.warrantId, (ackedPer.get(a.warrantId) ?? 0) + 1);
  for (const w of stored) {
    expect(w.uses, `uses of ${w.id}`).toBeLessThanOrEqual(w.max_uses);
    expect(eventsPer.get(w.id) ?? 0, `allow events of ${w.id}`).toBe(w.uses);
    expect(ackedPer.get(w.id) ?? 0, `acks of ${w.id}`).toBeLessThanOrEqual(w.uses);
  }
  // The last round ran to completion, so every warrant is spent exactly.
  expect(stored.every((w) => w.uses === w.max_uses)).toBe(true);
  // Receipts are signed after the commit: each must carry exactly the logged claims.
  const logged = new Map(events.map((e) => [e.jti, canonicalJson(JSON.parse(e.claims))]));
  const lost = acked.filter((a) => logged.get(a.jti) !== a.claims);
  expect(lost, 'acknowledged receipts missing from the log').toEqual([]);
  expect(new Set(acked.map((a) => a.jti)).size).toBe(acked.length);
}
