import type { Decision } from '../approval/decision.js';
import type { ClaimCondition } from '../core/claim-matcher.js';
import { canonicalJson } from '../core/canonical.js';
import { escapeUnprintable, hasUnprintable } from '../core/printable.js';
import type { ScopeEntry } from '../core/scope.js';
import type { ToolBinding } from '../core/tool-binding.js';
import type { RequestBody } from '../request/request.js';
import { windowText } from '../request/window.js';

/** `GET /v1/requests/:id` as the CLI reads it. */
export interface RequestView {
  readonly id: string;
  readonly state: string;
  readonly approvals: number;
  readonly requiredApprovals: number;
  readonly warrantId: string | null;
  readonly body: RequestBody;
  readonly decisions?: readonly Pick<Decision, 'approver' | 'decision' | 'reason' | 'at'>[];
}

/**
 * Text the requester chose is shown as it is only when it is plain: with control or
 * format characters (newlines, ANSI escapes, bidi overrides, zero-width spaces) or
 * surrounding spaces it is shown JSON-quoted, so what the terminal shows is what is signed.
 * JSON.stringify escapes only C0 controls, quotes and backslashes, and leaves the rest
 * (U+202E, U+200B, U+009B, U+2028) for the terminal to act on: those are escaped too.
 */
export function shown(text: string): string {
  return hasUnprintable(text) || /^\s|\s$/u.test(text) || text === ''
    ? escapeUnprintable(JSON.stringify(text))
    : text;
}

const label = (name: string): string => name.padEnd(15);
const indent = ' '.repeat(15);

/** `[['a','b'],['cc','d']]` as left-aligned columns. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

/** Lines of a labelled field: the first carries the label, the rest are indented under it. */
function field(name: string, lines: readonly string[]): string[] {
  return lines.map((l, i) => (i === 0 ? label(name) : indent) + l);
}

function span(from: string, to: string): string {
  const minutes = Math.round((Date.parse(to) - Date.parse(from)) / 60_000);
  if (!Number.isFinite(minutes)) return '';
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  return ` (${[d ? `${d}d` : '', h ? `${h}h` : '', m || minutes === 0 ? `${m}m` : ''].join('')})`;
}

const condition = (c: ClaimCondition): string =>
  typeof c === 'string' ? `= ${shown(c)}` : `~= ${shown(c.pattern)} (glob)`;

function executorLines(b: RequestBody): string[] {
  const e = b.executor;
  switch (e.kind) {
    case 'principal':
      return [`principal ${shown(e.principal)}`];
    case 'claims':
      return [
        `a workload token from ${shown(e.matcher.issuer)} whose claims match all of:`,
        ...columns(
          Object.entries(e.matcher.claims)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([name, c]) => ['  ' + shown(name), condition(c)]),
        ),
      ];
  }
}

/** What a scope entry's argument constraints allow, e.g. `table ∈ {orders, invoices}`. */
function constraintText(c: ScopeEntry['constraints']): string {
  if (c === undefined) return 'any';
  return Object.entries(c)
    .map(
      ([name, k]) => `${shown(name)} ∈ {${k.in.map((v) => shown(JSON.stringify(v))).join(', ')}}`,
    )
    .join(' and ');
}

function toolLines(t: ToolBinding): string[] {
  const pinned =
    t.argumentsDigest === undefined
      ? ['any arguments the scope allows']
      : [`exactly the arguments ${t.argumentsDigest}`];
  // Disclosed arguments are shown as canonical JSON, so what is read is what is hashed.
  const args = t.arguments === undefined ? [] : [`  ${shown(canonicalJson(t.arguments))}`];
  return [`${shown(t.name)} on MCP server ${shown(t.server)}`, ...pinned, ...args];
}

/**
 * The text rendering of `request show`: every field the approvers' decisions bind (the
 * request body, whose digest is the request id), then its state and the decisions.
 */
export function renderRequest(r: RequestView): string {
  const b = r.body;
  const p = b.policy;
  const constrained = b.scope.some((e) => e.constraints !== undefined);
  const scope = columns([
    ['RESOURCE', 'PERMISSIONS', ...(constrained ? ['ARGUMENTS'] : [])],
    ...b.scope.map((e) => [
      shown(e.resource),
      e.permissions.map(shown).join(', '),
      ...(constrained ? [constraintText(e.constraints)] : []),
    ]),
  ]);
  const decisions = (r.decisions ?? []).map(
    (d) => `${d.decision.padEnd(7)}  ${shown(d.approver)}  ${d.at}  ${shown(d.reason)}`,
  );
  return [
    ...field('request', [r.id]),
    ...field('state', [`${r.state} (${r.approvals} of ${r.requiredApprovals} approvals)`]),
    ...field('warrant', [r.warrantId ?? '-']),
    '',
    ...field('subject', [`${shown(b.subject)} (${b.subjectKind}, owner ${shown(b.subjectOwner)})`]),
    ...field('action', [b.action]),
    ...(b.tool === undefined ? [] : field('tool', toolLines(b.tool))),
    ...field('environment', [shown(b.environment)]),
    ...field('scope', scope),
    ...field('targets', [b.targets.length === 0 ? 'none' : b.targets.map(shown).join(', ')]),
    ...field('window', [
      b.durationMs === undefined
        ? `${b.notBefore} to ${b.notAfter}${span(b.notBefore ?? '', b.notAfter ?? '')}`
        : windowText(b),
    ]),
    ...field('executor', executorLines(b)),
    ...field('max uses', [String(b.maxUses)]),
    ...field('reason', [shown(b.reason)]),
    ...field('ticket', [b.ticket === undefined ? '-' : shown(b.ticket)]),
    ...field('requester', [`${shown(b.requester)} at ${b.createdAt}`]),
    ...field('pending until', [b.pendingExpiresAt]),
    ...field('policy', [
      `rule ${shown(p.rule)}, ${p.version}`,
      `${p.requiredApprovals} approval(s) from ${p.approverGroups.map(shown).join(', ') || 'any group'}` +
        (p.excludeOwner ? `; the subject's owner may not approve` : '') +
        (p.requesterMayExecute === false ? '; the requester may not execute' : ''),
    ]),
    ...(decisions.length === 0 ? [] : ['', ...field('decisions', decisions)]),
  ].join('\n');
}
