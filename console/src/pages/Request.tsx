/**
 * What you see is what you sign. The request is rendered from `body` of the review
 * answer, and the digest of that very object (RFC 8785, SHA-256) is computed here and
 * compared with the id being approved; the approve button stays disabled unless they match.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import { api } from '../api.js';
import { Safe } from '../components/Safe.js';
import { Loading, ProblemAlert, RiskFlags, StateBadge } from '../components/ui.js';
import { checkRequestDigest } from '../lib/digest.js';
import { requestIdParam, timelinePath } from '../lib/paths.js';
import { problemOf } from '../lib/problem.js';
import { may } from '../lib/roles.js';
import { useSession } from '../session.js';
import { Body, SubjectContext } from './request/Body.js';
import { Approvers, DigestStatus, Diff } from './request/Context.js';
import { DecisionForm } from './request/Decision.js';
import { member as field } from '../lib/unknown.js';

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
