/**
 * Human-readable chain of custody. Every value from the bundle passes through
 * `printable`, so a hostile bundle cannot inject terminal escapes or bidi controls.
 */
import type { CustodyAction, CustodyChain, CustodyFulfilment, CustodyGap } from './chain.js';
import { windowText } from '../request/window.js';
import { printable } from '../core/printable.js';
import type { VerificationReport } from './report.js';

const p = (value: string | number | null | undefined): string =>
  value === null || value === undefined ? '(missing)' : printable(String(value));

function actionText(a: CustodyAction | null): string {
  if (a === null) return '(no action recorded)';
  const target = a.target === null ? '' : ` on target ${p(a.target)}`;
  const t = a.tool;
  const tool =
    t === null
      ? ''
      : `, calling ${p(t.name)} on ${p(t.server)} for ${p(t.agent)} with arguments ${p(t.argumentsDigest)}` +
        (t.arguments === null ? '' : ` (${p(t.arguments)})`);
  return `${p(a.permission)} ${p(a.resource)} in ${p(a.environment)}${target}${tool}`;
}

function toolLine(r: NonNullable<CustodyChain['request']>): string[] {
  const t = r.tool;
  if (t === null) return [];
  const pinned =
    t.argumentsDigest === null
      ? 'any arguments the scope allows'
      : `exactly the arguments ${p(t.argumentsDigest)}` +
        (t.arguments === null ? ' (not disclosed)' : `: ${p(t.arguments)}`);
  return [`  tool: ${p(t.name)} on ${p(t.server)}, ${pinned}`];
}

function gapText(g: CustodyGap): string {
  switch (g.kind) {
    case 'request_missing':
      return 'no request.created event: what was approved is unknown';
    case 'quorum_short':
      return `warrant issued with ${g.approvers} distinct approver(s); policy required ${g.required}`;
    case 'target_unfulfilled':
      return `approved target ${p(g.target)} has no successful fulfilment`;
    case 'redeemed_without_warrant':
      return `redemption at ${p(g.at)} but no warrant.issued event`;
    case 'redeemed_before_validity':
      return `redemption at ${p(g.at)} before the warrant's nbf ${p(g.nbf)}`;
    case 'redeemed_after_expiry':
      return `redemption at ${p(g.at)} at or after the warrant's exp ${p(g.exp)}`;
    case 'redeemed_after_revocation':
      return `redemption at ${p(g.at)} after the warrant was revoked at ${p(g.revokedAt)}`;
    case 'finding_unresolved': {
      const on = g.target === null ? '' : ` on target ${p(g.target)}`;
      return `finding ${p(g.findingKind)}${on} is ${g.state}: ${p(g.detail)}`;
    }
  }
}

function requestLines(c: CustodyChain): string[] {
  const r = c.request;
  if (r === null) return ['Request', '  (no request.created event)'];
  const scope = r.scope.map(
    (s) =>
      `${p(s.resource)} [${s.permissions.map(p).join(', ')}]` +
      (s.constraints === null ? '' : ` where ${p(s.constraints)}`),
  );
  const ticket = r.ticket === null ? '' : ` (ticket ${p(r.ticket)})`;
  const pol = r.policy;
  return [
    'Request',
    `  requested by ${p(r.requester)} at ${p(r.at)}`,
    `  subject ${p(r.subject)}: ${p(r.action)} in environment ${p(r.environment)}`,
    ...toolLine(r),
    `  scope: ${scope.join('; ') || '(none)'}`,
    `  targets: ${r.targets.map(p).join(', ') || '(none)'}`,
    `  executor: ${p(r.executor)}`,
    `  window: ${p(windowText(r))}, max uses ${p(r.maxUses)}`,
    `  reason: ${p(r.reason)}${ticket}`,
    `  policy ${p(pol.version)}, rule ${p(pol.rule)}: ${p(pol.requiredApprovals)} approval(s) from ${pol.approverGroups.map(p).join(', ') || '(none)'}`,
  ];
}

/** Fulfilments, revocations, observations and findings: what happened after approval. */
function afterLines(c: CustodyChain): string[] {
  const out: string[] = [];
  const section = (title: string, lines: string[]): void => {
    if (lines.length > 0) out.push(title, ...lines);
  };
  const report = (f: CustodyFulfilment): string => {
    const fp = f.fingerprint === null ? '' : `, fingerprint ${p(f.fingerprint)}`;
    return `  ${p(f.target)}: ${p(f.outcome)} (phase ${p(f.phase)}, by ${p(f.actor)} at ${p(f.at)}${fp})`;
  };
  section('Fulfilments', c.fulfilments.filter((f) => f.phase !== 'revoke').map(report));
  section('Revocations', c.fulfilments.filter((f) => f.phase === 'revoke').map(report));
  section(
    'Observations',
    c.observations.map(
      (o) =>
        `  ${p(o.target)}: ${p(o.kind)} ${p(o.fact)} (observed at ${p(o.observedAt)} by ${p(o.actor)})`,
    ),
  );
  section(
    'Findings',
    c.findings.map(
      (f) =>
        `  ${p(f.kind)} on ${p(f.target ?? '-')}: ${f.state}, raised at ${p(f.raisedAt)}: ${p(f.detail)}`,
    ),
  );
  return out;
}

function chainLines(c: CustodyChain): string[] {
  const out = requestLines(c);
  out.push('Decisions');
  if (c.decisions.length === 0) out.push('  (none)');
  for (const d of c.decisions) {
    const why = d.reason === null ? '' : `: ${p(d.reason)}`;
    out.push(
      `  ${d.kind} by ${p(d.approver)} at ${p(d.at)} under policy ${p(d.policyVersion)}, rule ${p(d.rule)}${why}`,
    );
    if (d.signIn !== null) {
      const i = d.signIn;
      out.push(
        `    signed in via ${p(i.issuer)} as ${p(i.subject)} at ${p(i.authTime)}, token ${p(i.tokenDigest)}`,
      );
    }
  }
  const w = c.warrant;
  if (w === null) out.push('Warrant', '  (none issued)');
  else {
    out.push(
      `Warrant ${p(w.id)}`,
      `  issued at ${p(w.issuedAt)}, signed by key ${p(w.kid)}`,
      `  bound to executor ${p(w.executor)}`,
      `  valid ${p(w.notBefore)} to ${p(w.notAfter)}, max uses ${p(w.maxUses)}`,
    );
  }
  out.push('Redemptions');
  if (c.redemptions.length === 0 && c.denials.length === 0) out.push('  (none)');
  for (const r of c.redemptions) {
    out.push(
      `  allowed use ${p(r.use)}/${p(r.maxUses)} by ${p(r.executor)} at ${p(r.at)}: ${actionText(r.action)}`,
    );
  }
  for (const d of c.denials) {
    out.push(`  denied ${p(d.code)} for ${p(d.executor)} at ${p(d.at)}: ${actionText(d.action)}`);
  }
  if (c.ends.length > 0) out.push('End');
  for (const e of c.ends) {
    const why = e.reason === null ? '' : `: ${p(e.reason)}`;
    out.push(`  ${e.kind} at ${p(e.at)} by ${p(e.actor)}${why}`);
  }
  out.push(...afterLines(c));
  if (c.other.length > 0) out.push('Other events');
  for (const o of c.other) out.push(`  ${p(o.type)} by ${p(o.actor)} at ${p(o.at)}`);
  out.push('Gaps');
  if (c.gaps.length === 0) out.push('  (none)');
  for (const g of c.gaps) out.push(`  - ${gapText(g)}`);
  return out;
}

const TRUST_TEXT: Readonly<Record<VerificationReport['trust'], string>> = {
  pinned: 'pinned (log key and JWKS given by the verifier)',
  partial: 'partial (one anchor taken from the bundle itself)',
  embedded: 'embedded (anchors taken from the bundle itself: proves consistency, not origin)',
};

/** A verdict holds only up to its checkpoint: later events cannot be in the bundle. */
function checkpointText(cp: VerificationReport['checkpoint']): string {
  return cp === null
    ? 'Checkpoint: none verified'
    : `Checkpoint: as of ${p(cp.origin)} tree size ${p(cp.size)}, root ${p(cp.rootHash)}`;
}

/**
 * Renders a verification report as text: the verdict, the checkpoint it is as of, the
 * failing checks, then the chain of custody and its gaps.
 *
 * @example
 * ```ts
 * process.stdout.write(renderCustody(await verifyBundle(text, { jwks, logVerifierKey })));
 * ```
 */
export function renderCustody(report: VerificationReport): string {
  const failed = report.checks.filter((c) => !c.ok);
  const head = [
    `Evidence for request ${p(report.requestId)}`,
    `Verification: ${report.ok ? 'PASSED' : 'FAILED'}; trust ${TRUST_TEXT[report.trust]}`,
    checkpointText(report.checkpoint),
    ...failed.map((c) => {
      const at = c.index === undefined ? '' : ` (entry ${c.index})`;
      return `  FAILED ${c.code}${at}: ${p(c.detail)}`;
    }),
  ];
  return `${[...head, ...chainLines(report.custody)].join('\n')}\n`;
}
