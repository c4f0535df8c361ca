import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import { api } from '../api.js';
import { Safe } from '../components/Safe.js';
import { Loading, ProblemAlert } from '../components/ui.js';
import { verifyEntryInclusion, type InclusionResult } from '../lib/inclusion.js';
import { evidencePath, requestIdParam, requestPath } from '../lib/paths.js';
import { problemOf } from '../lib/problem.js';
import { timelineOf, type Step } from '../lib/timeline.js';

const source = {
  verifierKeys: api.verifierKeys,
  checkpoint: api.checkpoint,
  inclusionProof: api.inclusionProof,
};

function Verify({ step }: { readonly step: Step }) {
  const [state, setState] = useState<'idle' | 'busy' | InclusionResult | Error>('idle');
  const run = async (): Promise<void> => {
    setState('busy');
    try {
      setState(await verifyEntryInclusion({ index: step.index, leaf: step.leaf }, source));
    } catch (err) {
      setState(err instanceof Error ? err : new Error(String(err)));
    }
  };
  return (
    <div className="verify">
      <button
        type="button"
        onClick={() => void run()}
        disabled={state === 'busy'}
        data-testid={`verify-${step.index}`}
        aria-describedby={`verify-result-${step.index}`}
      >
        Verify inclusion
      </button>
      <div id={`verify-result-${step.index}`} role="status" className="verify-result">
        {state === 'busy' && <span className="muted">Verifying in your browser…</span>}
        {state instanceof Error && (
          <span className="bad">{`Could not verify: ${problemOf(state).detail || state.message}`}</span>
        )}
        {typeof state === 'object' && !(state instanceof Error) && (
          <div className={state.ok ? 'ok' : 'bad'}>
            <strong>
              {state.ok
                ? `✓ Included in the log (checked in your browser against the signed checkpoint of size ${state.treeSize ?? '?'})`
                : '✗ Inclusion NOT verified'}
            </strong>
            <ul className="checks">
              {state.checks.map((c, i) => (
                <li key={i} className={c.ok ? 'ok' : 'bad'}>
                  {`${c.ok ? '✓' : '✗'} ${c.label}`}
                  {c.detail !== undefined && (
                    <>
                      {': '}
                      <Safe v={c.detail} />
                    </>
                  )}
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </div>
  );
}

export function TimelinePage({ rawId }: { readonly rawId: string | undefined }) {
  const id = requestIdParam(rawId);
  const bundle = useQuery({
    queryKey: ['evidence', id],
    queryFn: () => api.evidence(id as string),
    enabled: id !== undefined,
  });
  useEffect(() => {
    document.title = 'Chain timeline · countersign';
  }, []);
  if (id === undefined) {
    return (
      <>
        <h1>Chain timeline</h1>
        <p role="alert">This is not a request id.</p>
      </>
    );
  }
  const steps = bundle.data ? timelineOf(bundle.data.entries) : [];
  return (
    <>
      <h1>Chain timeline</h1>
      <p>
        <Link href={requestPath(id)}>
          {'Request '}
          <span className="mono small break">{id}</span>
        </Link>
        {' · '}
        <a href={evidencePath(id)} download={`evidence-${id.slice(7, 19)}.json`}>
          Export evidence bundle
        </a>
      </p>
      {bundle.isPending && <Loading what="the evidence" />}
      {bundle.error && <ProblemAlert problem={problemOf(bundle.error)} />}
      {steps.length > 0 && (
        <ol className="timeline" aria-label="Events of this request, in log order">
          {steps.map((s) => (
            <li
              key={s.index}
              className={`step step-${s.kind}${s.bad ? ' step-bad' : ''}`}
              data-testid={`event-${s.type}`}
            >
              <div className="step-head">
                <span className="log-index" title="Log index">{`#${s.index}`}</span>
                <h2 className="step-title">
                  <Safe v={s.title} />
                </h2>
              </div>
              <p className="muted small">
                {s.at ?? 'time unknown'}
                {s.actor !== null && (
                  <>
                    {' · by '}
                    <Safe v={s.actor} />
                  </>
                )}
                {` · ${s.type}`}
              </p>
              {s.facts.length > 0 && (
                <dl className="facts compact">
                  {s.facts.map(([k, v], i) => (
                    <div key={i}>
                      <dt>{k}</dt>
                      <dd>
                        <Safe v={v} />
                      </dd>
                    </div>
                  ))}
                </dl>
              )}
              <Verify step={s} />
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
