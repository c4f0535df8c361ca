import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { useLocation } from 'wouter';
import { api, type CreateRequestInput } from '../api.js';
import { Safe } from '../components/Safe.js';
import { ProblemAlert } from '../components/ui.js';
import { requestPath } from '../lib/paths.js';
import { problemOf } from '../lib/problem.js';
import { ACTIONS, type Action } from '../lib/actions.js';
import { may } from '../lib/roles.js';
import { useSession } from '../session.js';
import { Field } from '../components/Field.js';
import { bodyOf, type FormState } from '../lib/request-form.js';

let rowKey = 1;

export function NewRequestPage() {
  const { principal } = useSession();
  const [, navigate] = useLocation();
  const [f, setF] = useState<FormState>({
    subject: '',
    action: 'grant',
    environment: 'prod',
    targets: '',
    executorKind: 'principal',
    principal: '',
    issuer: '',
    claims: '',
    duration: '1h',
    maxUses: '1',
    reason: '',
    ticket: '',
    scope: [{ key: 0, resource: '', permissions: '' }],
  });
  const set =
    <K extends keyof FormState>(k: K) =>
    (v: FormState[K]) =>
      setF((old) => ({ ...old, [k]: v }));
  const body = bodyOf(f);
  const [debounced, setDebounced] = useState(body);
  const bodyKey = JSON.stringify(body);
  useEffect(() => {
    const t = setTimeout(() => setDebounced(JSON.parse(bodyKey) as typeof body), 400);
    return () => clearTimeout(t);
  }, [bodyKey]);
  useEffect(() => {
    document.title = 'New request · countersign';
  }, []);
  const preview = useQuery({
    queryKey: ['preview', debounced],
    queryFn: () => api.preview(debounced as CreateRequestInput),
    enabled: typeof debounced !== 'string',
    retry: false,
  });
  const create = useMutation({
    mutationFn: (input: CreateRequestInput) => api.create(input),
    onSuccess: (r) => {
      if (r) navigate(requestPath(r.id));
    },
  });
  const actionId = useId();
  const reasonId = useId();
  const claimsId = useId();
  if (!may(principal.roles, 'POST /v1/requests')) {
    return (
      <>
        <h1>New request</h1>
        <p>Your roles do not include requester.</p>
      </>
    );
  }
  const p = preview.data;
  return (
    <>
      <h1>New request</h1>
      <div className="two-col">
        <form
          className="form"
          aria-label="New request"
          onSubmit={(e) => {
            e.preventDefault();
            if (typeof body !== 'string') create.mutate(body);
          }}
        >
          <Field
            label="NHI (subject)"
            value={f.subject}
            onChange={set('subject')}
            placeholder="svc:payments-api"
            required
          />
          <div className="field">
            <label htmlFor={actionId}>Action</label>
            <select
              id={actionId}
              value={f.action}
              onChange={(e) => set('action')(e.target.value as Action)}
            >
              {ACTIONS.filter((a) => a !== 'tool_call').map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </div>
          <fieldset>
            <legend>Scope</legend>
            {f.scope.map((row, i) => (
              <div key={row.key} className="scope-row">
                <Field
                  label={`Resource ${i + 1}`}
                  value={row.resource}
                  placeholder="db/orders/*"
                  onChange={(v) =>
                    set('scope')(
                      f.scope.map((r) => (r.key === row.key ? { ...r, resource: v } : r)),
                    )
                  }
                />
                <Field
                  label={`Permissions ${i + 1}`}
                  value={row.permissions}
                  placeholder="read, write"
                  onChange={(v) =>
                    set('scope')(
                      f.scope.map((r) => (r.key === row.key ? { ...r, permissions: v } : r)),
                    )
                  }
                />
                {f.scope.length > 1 && (
                  <button
                    type="button"
                    onClick={() => set('scope')(f.scope.filter((r) => r.key !== row.key))}
                  >
                    {`Remove scope row ${i + 1}`}
                  </button>
                )}
              </div>
            ))}
            <button
              type="button"
              onClick={() =>
                set('scope')([...f.scope, { key: rowKey++, resource: '', permissions: '' }])
              }
            >
              Add scope row
            </button>
          </fieldset>
          <Field label="Environment" value={f.environment} onChange={set('environment')} required />
          <Field
            label="Targets"
            value={f.targets}
            onChange={set('targets')}
            hint="Separated by commas or spaces; none for the default target."
          />
          <fieldset>
            <legend>Executor</legend>
            <label className="inline">
              <input
                type="radio"
                name="executor"
                checked={f.executorKind === 'principal'}
                onChange={() => set('executorKind')('principal')}
              />{' '}
              A principal
            </label>
            <label className="inline">
              <input
                type="radio"
                name="executor"
                checked={f.executorKind === 'claims'}
                onChange={() => set('executorKind')('claims')}
              />{' '}
              A workload (token claims)
            </label>
            {f.executorKind === 'principal' ? (
              <Field
                label="Executor principal"
                value={f.principal}
                onChange={set('principal')}
                placeholder="deploy-eu"
              />
            ) : (
              <>
                <Field
                  label="Token issuer"
                  value={f.issuer}
                  onChange={set('issuer')}
                  placeholder="https://token.actions.githubusercontent.com"
                />
                <div className="field">
                  <label htmlFor={claimsId}>Claims (one name=value per line)</label>
                  <textarea
                    id={claimsId}
                    rows={3}
                    value={f.claims}
                    onChange={(e) => set('claims')(e.target.value)}
                  />
                </div>
              </>
            )}
          </fieldset>
          <Field
            label="Duration"
            value={f.duration}
            onChange={set('duration')}
            hint="e.g. 30m, 2h, 1d"
          />
          <Field label="Max uses" value={f.maxUses} onChange={set('maxUses')} inputMode="numeric" />
          <div className="field">
            <label htmlFor={reasonId}>
              Reason<span aria-hidden="true"> *</span>
            </label>
            <textarea
              id={reasonId}
              rows={3}
              maxLength={2000}
              value={f.reason}
              required
              onChange={(e) => set('reason')(e.target.value)}
            />
          </div>
          <Field label="Ticket" value={f.ticket} onChange={set('ticket')} />
          {typeof body === 'string' && <p className="hint">{body}</p>}
          <button
            type="submit"
            className="primary"
            disabled={typeof body === 'string' || create.isPending}
          >
            Submit request
          </button>
          {create.error && <ProblemAlert problem={problemOf(create.error)} />}
        </form>
        <aside aria-labelledby="preview-h" className="preview" aria-live="polite">
          <h2 id="preview-h">Who must approve</h2>
          {typeof debounced === 'string' && (
            <p className="muted">Fill in the form to see which policy rule matches.</p>
          )}
          {preview.isFetching && <p className="muted">Checking the policy…</p>}
          {preview.error && <ProblemAlert problem={problemOf(preview.error)} />}
          {p && typeof debounced !== 'string' && (
            <div data-testid="preview">
              <p>
                {'Rule '}
                <strong>
                  <Safe v={p.rule} />
                </strong>
                {' in '}
                <Safe v={p.environment} />
              </p>
              <p>
                <strong>{`${p.requiredApprovals} approval${p.requiredApprovals === 1 ? '' : 's'} needed`}</strong>
                {' from:'}
              </p>
              <ul className="plain">
                {p.eligibleApprovers.map((a) => (
                  <li key={a.id}>
                    <Safe v={a.id} />
                    <span className="muted">{` (${a.groups.join(', ')})`}</span>
                  </li>
                ))}
              </ul>
              {p.separationOfDuties.length > 0 && (
                <ul className="plain small">
                  {p.separationOfDuties.map((s, i) => (
                    <li key={i}>
                      <Safe v={s} />
                    </li>
                  ))}
                </ul>
              )}
              <p className="muted small">
                {'Policy digest '}
                <span className="mono">
                  <Safe v={p.policyDigest} />
                </span>
              </p>
            </div>
          )}
        </aside>
      </div>
    </>
  );
}
