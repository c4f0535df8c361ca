/**
 * What you see is what you sign. The request is rendered from `body` of the review
 * answer, and the digest of that very object (RFC 8785, SHA-256) is computed here and
 * compared with the id being approved; the approve button stays disabled unless they match.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { Link } from 'wouter';
import { api, type Review } from '../api.js';
import { asText, Safe } from '../components/Safe.js';
import { Loading, ProblemAlert, RiskFlags, Row, StateBadge } from '../components/ui.js';
import { checkRequestDigest, type DigestCheck } from '../lib/digest.js';
import { diffBodies, valueText } from '../lib/diff.js';
import { loginPath, requestIdParam, requestPath, timelinePath } from '../lib/paths.js';
import { problemOf, type Problem } from '../lib/problem.js';
import { durationText } from '../lib/risk.js';
import { may } from '../lib/roles.js';
import { useAuthOptions, useSession } from '../session.js';

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const field = (o: unknown, k: string): unknown =>
  isObj(o) && Object.hasOwn(o, k) ? o[k] : undefined;
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);

function DigestStatus({
  check,
  id,
}: {
  readonly check: DigestCheck | undefined;
  readonly id: string;
}) {
  if (check === undefined) {
    return (
      <p role="status" className="digest">
        Checking the digest in your browser…
      </p>
    );
  }
  if (check.ok) {
    return (
      <div role="status" className="digest digest-ok" data-testid="digest-status">
        <p>
          <strong>✓ Digest checked in your browser:</strong> the object shown on this page hashes
          (RFC 8785, SHA-256) to the request id you are deciding on.
        </p>
        <p className="mono small">{check.digest}</p>
      </div>
    );
  }
  const why =
    check.reason === 'mismatch'
      ? 'The object shown does not hash to the request id: what you see is not what you would approve.'
      : check.reason === 'not_canonical'
        ? 'The object shown cannot be put in canonical form, so its digest cannot be checked.'
        : 'The request id is not a sha256 digest.';
  return (
    <div role="alert" className="alert alert-error digest digest-bad" data-testid="digest-status">
      <p>
        <strong>✗ Digest mismatch — do not approve.</strong> {why} Approving is disabled.
      </p>
      <p className="mono small">{`request id:       ${id}`}</p>
      <p className="mono small">{`computed here:    ${check.digest ?? '(none)'}`}</p>
    </div>
  );
}

function Scope({ scope }: { readonly scope: unknown }) {
  const rows = list(scope);
  return (
    <table className="table">
      <caption className="visually-hidden">Scope</caption>
      <thead>
        <tr>
          <th scope="col">Resource</th>
          <th scope="col">Permissions</th>
          <th scope="col">Constraints</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((e, i) => (
          <tr key={i}>
            <td className="mono">
              <Safe v={field(e, 'resource')} />
            </td>
            <td>
              <Safe v={list(field(e, 'permissions')).map(asText).join(', ')} />
            </td>
            <td>
              {field(e, 'constraints') === undefined ? (
                <span className="muted">none</span>
              ) : (
                <Safe v={field(e, 'constraints')} />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function windowOf(body: unknown): string {
  const d = field(body, 'durationMs');
  if (typeof d === 'number') return `${durationText(d)} from the warrant's issue`;
  return `${asText(field(body, 'notBefore'))} to ${asText(field(body, 'notAfter'))}`;
}

function Executor({ binding }: { readonly binding: unknown }) {
  const principal = field(binding, 'principal');
  if (principal !== undefined) {
    return (
      <>
        {'principal '}
        <strong>
          <Safe v={principal} />
        </strong>
      </>
    );
  }
  const matcher = field(binding, 'matcher') ?? binding;
  const claims = field(matcher, 'claims');
  return (
    <>
      {'workload from '}
      <Safe v={field(matcher, 'issuer')} />
      {isObj(claims) && (
        <ul className="plain">
          {Object.entries(claims).map(([k, c]) => (
            <li key={k}>
              <code className="code">
                <Safe v={k} />
              </code>
              {field(c, 'pattern') === undefined ? ' = ' : ' matches '}
              <Safe v={field(c, 'pattern') ?? c} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/**
 * What the NHI registry says of the subject today. Context for the approver, kept apart
 * from what is signed: it is not part of the request, and may change after approval.
 */
function SubjectContext({ subject }: { readonly subject: unknown }) {
  const nhi = useQuery({
    queryKey: ['nhi', subject],
    queryFn: () => api.nhi(String(subject)),
    enabled: typeof subject === 'string',
  });
  if (!nhi.data) return null;
  return (
    <section aria-labelledby="subject-context">
      <h2 id="subject-context">About the subject (registry, not signed)</h2>
      <dl className="facts">
        <Row label="Description">
          {nhi.data.description === null ? (
            <span className="muted">none</span>
          ) : (
            <Safe v={nhi.data.description} />
          )}
        </Row>
        <Row label="Registered">
          {`${nhi.data.createdAt} by `}
          <Safe v={nhi.data.createdBy} />
        </Row>
      </dl>
    </section>
  );
}

/** The request body, rendered field by field from the very object that was digested. */
function Body({ body }: { readonly body: unknown }) {
  const policy = field(body, 'policy');
  return (
    <dl className="facts">
      <Row label="Subject">
        <Safe v={field(body, 'subject')} />{' '}
        <span className="muted">({asText(field(body, 'subjectKind'))}, owner </span>
        <Safe v={field(body, 'subjectOwner')} />
        <span className="muted">)</span>
      </Row>
      <Row label="Action">
        <Safe v={field(body, 'action')} />
        {field(body, 'tool') !== undefined && (
          <>
            {' — tool '}
            <Safe v={field(body, 'tool')} />
          </>
        )}
        {field(body, 'connector') !== undefined && (
          <>
            {' — via connector '}
            <Safe v={field(body, 'connector')} />
          </>
        )}
      </Row>
      <Row label="Scope">
        <Scope scope={field(body, 'scope')} />
      </Row>
      <Row label="Environment">
        <strong>
          <Safe v={field(body, 'environment')} />
        </strong>
      </Row>
      <Row label="Targets">
        {list(field(body, 'targets')).length === 0 ? (
          <span className="muted">none named (the default target)</span>
        ) : (
          <Safe v={list(field(body, 'targets')).map(asText).join(', ')} />
        )}
      </Row>
      <Row label="Executor">
        <Executor binding={field(body, 'executor')} />
      </Row>
      <Row label="Window">{windowOf(body)}</Row>
      <Row label="Max uses">{asText(field(body, 'maxUses'))}</Row>
      <Row label="Reason">
        <Safe v={field(body, 'reason')} />
      </Row>
      <Row label="Ticket">
        {field(body, 'ticket') === undefined ? (
          <span className="muted">none</span>
        ) : (
          <Safe v={field(body, 'ticket')} />
        )}
      </Row>
      <Row label="Requester">
        <Safe v={field(body, 'requester')} />
      </Row>
      <Row label="Created">
        {asText(field(body, 'createdAt'))}
        <span className="muted">{`, pending until ${asText(field(body, 'pendingExpiresAt'))}`}</span>
      </Row>
      <Row label="Policy rule">
        <Safe v={field(policy, 'rule')} />
        <span className="muted">
          {` — ${asText(field(policy, 'requiredApprovals'))} approval(s) from `}
        </span>
        <Safe v={list(field(policy, 'approverGroups')).map(asText).join(', ')} />
        {field(policy, 'excludeOwner') === true && (
          <span className="muted">; not the owner group</span>
        )}
      </Row>
      <Row label="Policy digest">
        <span className="mono small">
          <Safe v={field(policy, 'version')} />
        </span>
      </Row>
    </dl>
  );
}

function Diff({
  previous,
  body,
}: {
  readonly previous: NonNullable<Review['previous']>;
  readonly body: unknown;
}) {
  const changes = diffBodies(previous.body, body);
  return (
    <section aria-labelledby="diff">
      <h2 id="diff">Changes since the last approved request</h2>
      <p className="muted">
        {'Compared with '}
        <Link href={requestPath(previous.id)}>
          the newest approved request for this subject and action
        </Link>
        {' (nonce and timestamps left out).'}
      </p>
      {changes.length === 0 ? (
        <p>No differences.</p>
      ) : (
        <table className="table">
          <caption className="visually-hidden">Changes</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Before</th>
              <th scope="col">Now</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((c) => (
              <tr key={c.path} className={`diff-${c.kind}`}>
                <th scope="row" className="mono">
                  <Safe v={c.path} />
                </th>
                <td>
                  {c.kind === 'added' ? (
                    <span className="muted">absent</span>
                  ) : (
                    <Safe v={valueText(c.before)} />
                  )}
                </td>
                <td>
                  {c.kind === 'removed' ? (
                    <span className="muted">absent</span>
                  ) : (
                    <Safe v={valueText(c.after)} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Approvers({ review }: { readonly review: Review }) {
  return (
    <section aria-labelledby="approvers">
      <h2 id="approvers">Approvals</h2>
      <p data-testid="progress">
        <strong>{`${review.approvals} of ${review.requiredApprovals}`}</strong> approvals
      </p>
      {review.decisions.length > 0 && (
        <ul className="plain">
          {review.decisions.map((d) => (
            <li key={d.id}>
              <StateBadge state={d.decision === 'approve' ? 'approved' : 'denied'} />{' '}
              <strong>
                <Safe v={d.approver} />
              </strong>
              <span className="muted">{` at ${d.at}${d.via ? ` via ${d.via}` : ''}`}</span>
              {d.reason !== '' && (
                <>
                  {': '}
                  <Safe v={d.reason} />
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <h3>Who may approve</h3>
      {review.eligibleApprovers.length === 0 ? (
        <p className="muted">No eligible approver is known.</p>
      ) : (
        <ul className="plain">
          {review.eligibleApprovers.map((a) => (
            <li key={a.id}>
              <Safe v={a.id} />
              <span className="muted">{` (${a.groups.join(', ')})`}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function DecisionForm({
  id,
  review,
  digestOk,
}: {
  readonly id: string;
  readonly review: Review;
  readonly digestOk: boolean;
}) {
  const [reason, setReason] = useState('');
  const reasonId = useId();
  const client = useQueryClient();
  const options = useAuthOptions();
  const { principal } = useSession();
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'deny') =>
      api.decide(id, { decision, ...(reason.trim() === '' ? {} : { reason: reason.trim() }) }),
    onSuccess: async () => {
      setReason('');
      await client.invalidateQueries({ queryKey: ['review', id] });
      await client.invalidateQueries({ queryKey: ['requests'] });
    },
    onError: (err) => {
      const p = problemOf(err);
      if (p.code !== 'AUTH_TOO_OLD') return;
      const issuers = options.data?.issuers ?? [];
      const prefix = principal.id.split(':')[0];
      const issuer = issuers.find((i) => i.name === prefix) ?? issuers[0];
      if (issuer) window.location.assign(loginPath(issuer.name, requestPath(id), true));
    },
  });
  const pending = review.state === 'pending';
  const blocked = !digestOk
    ? 'The digest check failed.'
    : !pending
      ? `The request is ${review.state}.`
      : !review.you.mayDecide
        ? (review.you.why ?? 'You may not decide on this request.')
        : null;
  const problem: Problem | null = decide.error ? problemOf(decide.error) : null;
  return (
    <section aria-labelledby="decide">
      <h2 id="decide">Your decision</h2>
      {blocked !== null && (
        <p className="notice" data-testid="decision-blocked">
          <Safe v={blocked} />
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
        }}
      >
        <label htmlFor={reasonId}>Reason (recorded in the log)</label>
        <textarea
          id={reasonId}
          value={reason}
          maxLength={2000}
          rows={3}
          onChange={(e) => setReason(e.target.value)}
        />
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={!digestOk || !pending || !review.you.mayDecide || decide.isPending}
            onClick={() => decide.mutate('approve')}
          >
            Approve
          </button>
          <button
            type="button"
            className="danger"
            disabled={!pending || !review.you.mayDecide || decide.isPending}
            onClick={() => decide.mutate('deny')}
          >
            Deny
          </button>
        </div>
      </form>
      {problem && (
        <ProblemAlert problem={problem}>
          {problem.code === 'AUTH_TOO_OLD' && (
            <p>Your sign-in is too old to approve; taking you to sign in again…</p>
          )}
        </ProblemAlert>
      )}
      {decide.isSuccess && (
        <p role="status" className="alert alert-ok">
          Your decision was recorded.
        </p>
      )}
    </section>
  );
}

export function RequestPage({ rawId }: { readonly rawId: string | undefined }) {
  const id = requestIdParam(rawId);
  const { principal } = useSession();
  const review = useQuery({
    queryKey: ['review', id],
    queryFn: () => api.review(id as string),
    enabled: id !== undefined,
  });
  const data = review.data;
  const check = useQuery({
    queryKey: ['digest', id, data?.body],
    // The digest covers the object the page renders: data.body, as received.
    queryFn: () => checkRequestDigest(data?.body, id as string),
    enabled: data !== undefined && id !== undefined,
    staleTime: Infinity,
    gcTime: 0,
  });
  const [raw, setRaw] = useState(false);
  useEffect(() => {
    document.title = 'Request · countersign';
  }, []);
  if (id === undefined) {
    return (
      <>
        <h1>Request</h1>
        <p role="alert">This is not a request id.</p>
      </>
    );
  }
  const digestOk = check.data?.ok === true && data?.id === id;
  return (
    <>
      <h1>
        {'Request '}
        <span className="mono small break">{id}</span>
      </h1>
      {review.isPending && <Loading what="the request" />}
      {review.error && <ProblemAlert problem={problemOf(review.error)} />}
      {data && (
        <>
          <p>
            <StateBadge state={data.state} /> <Link href={timelinePath(id)}>Chain timeline</Link>
          </p>
          <DigestStatus check={check.data} id={id} />
          <section aria-labelledby="risk">
            <h2 id="risk">Risk flags</h2>
            <RiskFlags flags={data.riskFlags} />
          </section>
          <section aria-labelledby="what">
            <h2 id="what">What you are approving</h2>
            <Body body={data.body} />
            <button type="button" aria-expanded={raw} onClick={() => setRaw(!raw)}>
              {raw ? 'Hide canonical JSON' : 'Show canonical JSON'}
            </button>
            {raw && (
              <pre
                className="raw"
                data-testid="canonical-json"
                tabIndex={0}
                aria-label="Canonical JSON"
              >
                <Safe v={check.data?.canonical ?? '(not canonicalisable)'} />
              </pre>
            )}
          </section>
          <SubjectContext subject={field(data.body, 'subject')} />
          {data.previous && <Diff previous={data.previous} body={data.body} />}
          <Approvers review={data} />
          {may(principal.roles, 'POST /v1/requests/:id/decisions') && (
            <DecisionForm id={id} review={data} digestOk={digestOk} />
          )}
        </>
      )}
    </>
  );
}
