/**
 * The chain timeline of one request, read from its evidence bundle's entries (each a
 * log leaf: the RFC 8785 JSON of an event, src/log/event.ts). Pure and total: an
 * unreadable leaf or an unknown event type becomes a generic step, never an error.
 * The field names follow src/evidence/custody.ts, which reads the same events.
 */
import { isObj, member, str } from './unknown.js';

export type StepKind =
  | 'request'
  | 'decision'
  | 'warrant'
  | 'redemption'
  | 'denial'
  | 'end'
  | 'fulfilment'
  | 'observation'
  | 'finding'
  | 'other';

export interface Step {
  readonly index: number;
  readonly leaf: string;
  /** The event type, e.g. `decision.approved`; `unreadable` when the leaf is not an event. */
  readonly type: string;
  readonly kind: StepKind;
  readonly at: string | null;
  readonly actor: string | null;
  /** One line saying what happened. */
  readonly title: string;
  /** Label and value pairs shown under it. */
  readonly facts: readonly (readonly [string, string])[];
  /** Whether the step reports a refusal, a failure or an open finding. */
  readonly bad: boolean;
}

const num = (v: unknown): number | null =>
  typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
const json = (v: unknown): string => JSON.stringify(v) ?? 'null';

/** Epoch seconds as an ISO instant, when representable. */
function instant(seconds: number | null): string | null {
  if (seconds === null || Math.abs(seconds) > 8.64e12) return null;
  return new Date(seconds * 1000).toISOString();
}

/** The executor binding in words: `principal alice`, or the claim matcher as JSON. */
const END_TITLES = {
  'warrant.revoked': 'Warrant revoked',
  'warrant.exhausted': 'Warrant exhausted: every use spent',
  'warrant.expired': 'Warrant window ended',
  'request.expired': 'Request expired before approval',
  'request.withdrawn': 'Request withdrawn',
} as const;

export function executorText(binding: unknown): string {
  if (binding === undefined || binding === null) return '(none)';
  const principal = str(member(binding, 'principal'));
  if (principal !== null) return `principal ${principal}`;
  // A request body names the matcher itself; a warrant tags it `{ kind: 'claims', matcher }`.
  const matcher = member(binding, 'matcher') ?? binding;
  const issuer = str(member(matcher, 'issuer'));
  if (issuer !== null)
    return `workload from ${issuer} with claims ${json(member(matcher, 'claims'))}`;
  return json(binding);
}

function actionText(a: unknown): string {
  if (!isObj(a)) return '(no action recorded)';
  const target = str(a.target);
  return (
    `${str(a.permission) ?? '?'} ${str(a.resource) ?? '?'}` +
    (str(a.environment) === null ? '' : ` in ${str(a.environment)}`) +
    (target === null ? '' : ` on target ${target}`)
  );
}

function facts(
  ...pairs: (readonly [string, string | number | null | undefined])[]
): [string, string][] {
  return pairs.flatMap(([k, v]) =>
    v === null || v === undefined || v === '' ? [] : [[k, String(v)] as [string, string]],
  );
}

function signIn(proof: unknown): string | null {
  const via = str(member(proof, 'via'));
  if (via === null) return null;
  if (via !== 'oidc') return via === 'api_token' ? 'API token' : via;
  const issuer = str(member(proof, 'issuer')) ?? '?';
  const subject = str(member(proof, 'subject')) ?? '?';
  const auth = instant(num(member(proof, 'auth_time')));
  return `OIDC ${issuer} as ${subject}` + (auth === null ? '' : `, signed in at ${auth}`);
}

function stepOf(index: number, leaf: string): Step {
  let event: unknown;
  try {
    event = JSON.parse(leaf);
  } catch {
    event = undefined;
  }
  const type = str(member(event, 'type'));
  const base = {
    index,
    leaf,
    at: str(member(event, 'at')),
    actor: str(member(event, 'actor')),
  };
  if (type === null) {
    return {
      ...base,
      type: 'unreadable',
      kind: 'other',
      title: 'Unreadable log entry',
      facts: [],
      bad: true,
    };
  }
  const data = member(event, 'data');
  const d = (k: string): unknown => member(data, k);
  const step = (kind: StepKind, title: string, f: [string, string][], bad = false): Step => ({
    ...base,
    type,
    kind,
    title,
    facts: f,
    bad,
  });
  switch (type) {
    case 'request.created': {
      const body = d('body');
      const b = (k: string): unknown => member(body, k);
      return step(
        'request',
        `Requested by ${str(b('requester')) ?? base.actor ?? '?'}`,
        facts(
          ['Subject', str(b('subject'))],
          ['Action', str(b('action'))],
          ['Environment', str(b('environment'))],
          ['Reason', str(b('reason'))],
        ),
      );
    }
    case 'decision.approved':
    case 'decision.denied': {
      const dec = d('decision');
      const approved = type === 'decision.approved';
      const who = str(member(dec, 'approver')) ?? base.actor ?? '?';
      return step(
        'decision',
        `${approved ? 'Approved' : 'Denied'} by ${who}`,
        facts(
          ['Signed in via', signIn(member(dec, 'approverIdentity'))],
          ['Decided at', str(member(dec, 'at'))],
          ['Reason', str(member(dec, 'reason'))],
          ['Rule', str(d('rule'))],
        ),
        !approved,
      );
    }
    case 'warrant.issued': {
      const c = d('claims');
      return step(
        'warrant',
        'Warrant issued',
        facts(
          ['Warrant', str(member(c, 'jti'))],
          ['Signing key', str(d('kid'))],
          ['Executor', executorText(member(c, 'executor'))],
          ['Valid from', instant(num(member(c, 'nbf')))],
          ['Valid until', instant(num(member(c, 'exp')))],
          ['Max uses', num(member(c, 'max_uses'))],
        ),
      );
    }
    case 'redemption.allowed': {
      const r = d('receipt');
      return step(
        'redemption',
        `Redemption allowed (use ${num(member(r, 'use')) ?? '?'} of ${num(member(r, 'max_uses')) ?? '?'})`,
        facts(
          ['Executor', str(member(r, 'executor'))],
          ['Action', actionText(member(r, 'action'))],
        ),
      );
    }
    case 'redemption.denied':
      return step(
        'denial',
        `Redemption denied: ${str(d('code')) ?? '?'}`,
        facts(['Executor', base.actor], ['Action', actionText(d('action'))]),
        true,
      );
    case 'warrant.revoked':
    case 'warrant.exhausted':
    case 'warrant.expired':
    case 'request.expired':
    case 'request.withdrawn':
      return step('end', END_TITLES[type], facts(['Reason', str(d('reason'))]));
    case 'observation.recorded': {
      const fact = d('fact');
      const kind = str(member(fact, 'kind'));
      const text =
        kind === 'secret_version'
          ? `version ${str(member(fact, 'fingerprint')) ?? '?'}`
          : kind === 'grant'
            ? `${str(member(fact, 'resource')) ?? '?'}=${str(member(fact, 'permission')) ?? '?'} ${member(fact, 'present') === false ? 'absent' : 'present'}`
            : '(unknown fact)';
      return step(
        'observation',
        `Observed at ${str(d('target')) ?? '?'}`,
        facts(['Fact', text], ['Observed at', str(d('observedAt'))]),
      );
    }
    case 'finding.raised':
    case 'finding.acknowledged':
    case 'finding.resolved':
    case 'finding.reopened':
      return step(
        'finding',
        `Finding ${type.slice('finding.'.length)}${str(d('kind')) === null ? '' : `: ${str(d('kind'))}`}`,
        facts(
          ['Finding', str(d('id'))],
          ['Target', str(d('target'))],
          ['Detail', str(d('detail'))],
        ),
        type === 'finding.raised' || type === 'finding.reopened',
      );
    default:
      if (type.startsWith('fulfilment.')) {
        const outcome = str(d('outcome'));
        return step(
          'fulfilment',
          `Fulfilment at ${str(d('target')) ?? '?'}: ${outcome ?? '?'}`,
          facts(
            ['Phase', str(d('phase')) ?? 'apply'],
            ['Fingerprint', str(d('fingerprint'))],
            ['Detail', str(d('detail'))],
          ),
          outcome === 'failure',
        );
      }
      return step('other', type, []);
  }
}

export interface BundleEntry {
  readonly index: number;
  readonly leaf: string;
}

/** The timeline of a bundle's entries, in log order. */
export function timelineOf(entries: readonly BundleEntry[]): Step[] {
  return [...entries].sort((a, b) => a.index - b.index).map((e) => stepOf(e.index, e.leaf));
}
