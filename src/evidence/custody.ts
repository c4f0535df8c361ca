/**
 * The chain of custody of one request, read from its log events: who asked for what,
 * who decided, which warrant was issued, how it was used, how it ended, and the gaps
 * between what was approved and what the log shows. Pure; unknown event types are
 * kept generically and never make it fail.
 */
import type {
  CustodyAction,
  CustodyChain,
  CustodyDecision,
  CustodyDenial,
  CustodyEnd,
  CustodyFulfilment,
  CustodyGap,
  CustodyObservation,
  CustodyOther,
  CustodyRedemption,
  CustodyRequest,
  CustodySignIn,
  CustodyWarrant,
} from './chain.js';
import { FindingFolder, fulfilmentOf, observationOf } from './custody-after.js';
import { constraintsText, toolOf } from './custody-tool.js';
import { approvedTargets } from '../core/vocabulary.js';
import type { EvidenceEvent } from './read.js';
import { canonicalOrUndefined, int, isObject, member, str, strings } from './read.js';

/** `data.outcome` values of a `fulfilment.*` event that count as done. */
export const FULFILMENT_SUCCESS_OUTCOMES: readonly string[] = ['success', 'succeeded', 'fulfilled'];

/** Epoch seconds (JWT `nbf`/`exp`) as an RFC 3339 instant, if representable. */
function instant(seconds: number | null): string | null {
  // ECMA-262 §21.4.1.22: a time value is at most 8.64e15 ms from the epoch.
  if (seconds === null || Math.abs(seconds) > 8.64e12) return null;
  return new Date(seconds * 1000).toISOString();
}

/** The executor binding as a name: the principal, else its canonical JSON. */
function executorOf(binding: unknown): string | null {
  if (member(binding, 'kind') === 'principal') return str(member(binding, 'principal'));
  return binding === undefined ? null : (canonicalOrUndefined(binding) ?? null);
}

function actionOf(value: unknown): CustodyAction | null {
  if (!isObject(value)) return null;
  return {
    resource: str(value.resource),
    permission: str(value.permission),
    environment: str(value.environment),
    target: str(value.target),
    tool: toolOf(value.tool),
  };
}

function requestOf(e: EvidenceEvent): CustodyRequest {
  const body = e.data.body;
  const get = (k: string): unknown => member(body, k);
  const policy = get('policy');
  const scope = Array.isArray(get('scope')) ? (get('scope') as unknown[]) : [];
  return {
    at: e.at,
    requester: str(get('requester')),
    subject: str(get('subject')),
    action: str(get('action')),
    scope: scope.flatMap((s) => {
      const resource = str(member(s, 'resource'));
      return resource === null
        ? []
        : [
            {
              resource,
              permissions: strings(member(s, 'permissions')),
              constraints: constraintsText(s),
            },
          ];
    }),
    tool: toolOf(get('tool')),
    environment: str(get('environment')),
    targets: strings(get('targets')),
    executor: executorOf(get('executor')),
    notBefore: str(get('notBefore')),
    notAfter: str(get('notAfter')),
    durationMs: int(get('durationMs')),
    maxUses: int(get('maxUses')),
    reason: str(get('reason')),
    ticket: str(get('ticket')),
    policy: {
      version: str(member(policy, 'version')),
      rule: str(member(policy, 'rule')),
      requiredApprovals: int(member(policy, 'requiredApprovals')),
      approverGroups: strings(member(policy, 'approverGroups')),
    },
  };
}

function decisionOf(e: EvidenceEvent, kind: CustodyDecision['kind']): CustodyDecision {
  const d = e.data.decision;
  return {
    kind,
    decisionId: str(member(d, 'id')),
    approver: str(member(d, 'approver')) ?? e.actor,
    at: str(member(d, 'at')) ?? e.at,
    reason: str(member(d, 'reason')),
    requestDigest: str(member(d, 'requestDigest')),
    policyVersion: str(e.data.policyVersion),
    rule: str(e.data.rule),
    signIn: signInOf(member(d, 'approverIdentity')),
  };
}

function signInOf(proof: unknown): CustodySignIn | null {
  const issuer = str(member(proof, 'issuer'));
  const subject = str(member(proof, 'subject'));
  if (member(proof, 'via') !== 'oidc' || issuer === null || subject === null) return null;
  return {
    issuer,
    subject,
    authTime: instant(int(member(proof, 'auth_time'))),
    tokenDigest: str(member(proof, 'token_digest')),
  };
}

function warrantOf(e: EvidenceEvent): CustodyWarrant {
  const c = e.data.claims;
  return {
    id: str(member(c, 'jti')),
    issuedAt: e.at,
    kid: str(e.data.kid),
    executor: executorOf(member(c, 'executor')),
    notBefore: instant(int(member(c, 'nbf'))),
    notAfter: instant(int(member(c, 'exp'))),
    maxUses: int(member(c, 'max_uses')),
    targets: strings(member(c, 'targets')),
  };
}

/**
 * Reads the chain of custody from a request's events, in log order. Never throws.
 *
 * @example
 * ```ts
 * const chain = custodyOf(entries.map((e) => parseEvent(e.leaf)).filter(isDefined));
 * chain.gaps; // e.g. [{ kind: 'target_unfulfilled', target: 'db-eu-2' }]
 * ```
 */
export function custodyOf(events: readonly EvidenceEvent[]): CustodyChain {
  let request: CustodyRequest | null = null;
  let warrant: CustodyWarrant | null = null;
  const decisions: CustodyDecision[] = [];
  const redemptions: CustodyRedemption[] = [];
  const denials: CustodyDenial[] = [];
  const ends: CustodyEnd[] = [];
  const fulfilments: CustodyFulfilment[] = [];
  const observations: CustodyObservation[] = [];
  const findings = new FindingFolder();
  const other: CustodyOther[] = [];
  for (const e of events) {
    const end = (kind: CustodyEnd['kind']): CustodyEnd => ({
      kind,
      at: e.at,
      actor: e.actor,
      reason: str(e.data.reason),
    });
    switch (e.type) {
      case 'request.created':
        request ??= requestOf(e);
        break;
      case 'decision.approved':
      case 'decision.denied':
        decisions.push(decisionOf(e, e.type === 'decision.approved' ? 'approved' : 'denied'));
        break;
      case 'warrant.issued':
        warrant ??= warrantOf(e);
        break;
      case 'redemption.allowed': {
        const r = e.data.receipt;
        redemptions.push({
          at: e.at,
          use: int(member(r, 'use')),
          maxUses: int(member(r, 'max_uses')),
          executor: str(member(r, 'executor')),
          action: actionOf(member(r, 'action')),
        });
        break;
      }
      case 'redemption.denied':
        denials.push({
          at: e.at,
          executor: e.actor,
          code: str(e.data.code),
          action: actionOf(e.data.action),
        });
        break;
      case 'warrant.revoked':
        ends.push(end('revoked'));
        break;
      case 'warrant.exhausted':
        ends.push(end('exhausted'));
        break;
      case 'request.expired':
        ends.push(end('expired'));
        break;
      case 'request.withdrawn':
        ends.push(end('withdrawn'));
        break;
      case 'observation.recorded':
        observations.push(observationOf(e));
        break;
      case 'finding.raised':
      case 'finding.acknowledged':
      case 'finding.resolved':
      case 'finding.reopened':
        findings.apply(e);
        break;
      default:
        if (e.type.startsWith('fulfilment.')) fulfilments.push(fulfilmentOf(e));
        else other.push({ type: e.type, at: e.at, actor: e.actor });
    }
  }
  const chain = {
    request,
    decisions,
    warrant,
    redemptions,
    denials,
    ends,
    fulfilments,
    observations,
    findings: findings.findings,
    other,
  };
  return { ...chain, gaps: gapsOf(chain) };
}

const time = (at: string): number => Date.parse(at);

function gapsOf(chain: Omit<CustodyChain, 'gaps'>): CustodyGap[] {
  const { request, warrant, redemptions } = chain;
  const gaps: CustodyGap[] = [];
  if (request === null) gaps.push({ kind: 'request_missing' });
  for (const f of chain.findings) {
    if (f.state === 'resolved') continue;
    const { kind: findingKind, target, state, detail } = f;
    gaps.push({ kind: 'finding_unresolved', findingKind, target, state, detail });
  }
  if (warrant === null) {
    for (const r of redemptions) gaps.push({ kind: 'redeemed_without_warrant', at: r.at });
    return gaps;
  }
  const approvers = new Set(
    chain.decisions.filter((d) => d.kind === 'approved').map((d) => d.approver),
  );
  const required = request?.policy.requiredApprovals ?? null;
  if (required !== null && approvers.size < required) {
    gaps.push({ kind: 'quorum_short', required, approvers: approvers.size });
  }
  // Decision 0036: a warrant that names no target approves `default`, as redemption and the
  // reconciler read it, so its missing fulfilment there is a gap like a named target's.
  const named = warrant.targets.length > 0 ? warrant.targets : (request?.targets ?? []);
  const targets = approvedTargets(named);
  // One pass over the fulfilments, so a hostile bundle cannot make this quadratic.
  // A revocation report takes a grant away again; it does not fulfil the target.
  const done = new Set(
    chain.fulfilments.flatMap((f) =>
      f.phase === 'apply' &&
      f.target !== null &&
      f.outcome !== null &&
      FULFILMENT_SUCCESS_OUTCOMES.includes(f.outcome)
        ? [f.target]
        : [],
    ),
  );
  for (const target of new Set(targets)) {
    if (!done.has(target)) gaps.push({ kind: 'target_unfulfilled', target });
  }
  const revokedAt = chain.ends.find((x) => x.kind === 'revoked')?.at ?? null;
  for (const r of redemptions) {
    const t = time(r.at);
    const { notBefore: nbf, notAfter: exp } = warrant;
    if (nbf !== null && t < time(nbf))
      gaps.push({ kind: 'redeemed_before_validity', at: r.at, nbf });
    // RFC 7519 §4.1.4: the token MUST NOT be accepted on or after `exp`.
    if (exp !== null && t >= time(exp)) gaps.push({ kind: 'redeemed_after_expiry', at: r.at, exp });
    if (revokedAt !== null && t > time(revokedAt)) {
      gaps.push({ kind: 'redeemed_after_revocation', at: r.at, revokedAt });
    }
  }
  return gaps;
}
