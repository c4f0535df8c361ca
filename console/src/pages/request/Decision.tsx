/** Approve or deny, with a reason; a stale sign-in goes back through the issuer. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { api, type Review } from '../../api.js';
import { Safe } from '../../components/Safe.js';
import { ProblemAlert } from '../../components/ui.js';
import { loginPath, requestPath } from '../../lib/paths.js';
import { problemOf, type Problem } from '../../lib/problem.js';
import { useAuthOptions, useSession } from '../../session.js';

export function DecisionForm({
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
