/**
 * The new-request form's state and the API body it makes: pure, so the rules (trimmed
 * fields, scope rows, the executor binding) are plain functions.
 */
import type { CreateRequestInput } from '../api.js';
import type { Action } from './actions.js';

export interface ScopeRow {
  readonly key: number;
  resource: string;
  permissions: string;
}

export interface FormState {
  subject: string;
  action: Action;
  environment: string;
  targets: string;
  executorKind: 'principal' | 'claims';
  principal: string;
  issuer: string;
  claims: string;
  duration: string;
  maxUses: string;
  reason: string;
  ticket: string;
  scope: ScopeRow[];
}

const split = (s: string): string[] =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** The create body from the form, or a sentence saying what is missing. */
export function bodyOf(f: FormState): CreateRequestInput | string {
  if (f.subject.trim() === '') return 'Name the NHI.';
  const scope = f.scope
    .filter((r) => r.resource.trim() !== '')
    .map((r) => ({ resource: r.resource.trim(), permissions: split(r.permissions) }));
  if (scope.length === 0) return 'Add at least one scope row.';
  if (scope.some((s) => s.permissions.length === 0)) return 'Every scope row needs a permission.';
  if (f.environment.trim() === '') return 'Name the environment.';
  if (f.reason.trim() === '') return 'Give a reason.';
  let executor: CreateRequestInput['executor'];
  if (f.executorKind === 'principal') {
    if (f.principal.trim() === '') return 'Name the executor principal.';
    executor = { principal: f.principal.trim() };
  } else {
    const claims: Record<string, string> = {};
    for (const line of f.claims.split('\n')) {
      if (line.trim() === '') continue;
      const eq = line.indexOf('=');
      if (eq <= 0) return 'Write each claim as name=value.';
      claims[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
    if (f.issuer.trim() === '' || Object.keys(claims).length === 0)
      return 'A workload binding needs an issuer and a claim.';
    executor = { issuer: f.issuer.trim(), claims };
  }
  const uses = Number(f.maxUses);
  return {
    subject: f.subject.trim(),
    action: f.action,
    scope,
    environment: f.environment.trim(),
    targets: split(f.targets),
    executor,
    ...(f.duration.trim() === '' ? {} : { duration: f.duration.trim() }),
    ...(f.maxUses.trim() === '' || !Number.isInteger(uses) ? {} : { maxUses: uses }),
    reason: f.reason.trim(),
    ...(f.ticket.trim() === '' ? {} : { ticket: f.ticket.trim() }),
  };
}
