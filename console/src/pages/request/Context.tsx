/** Around the body: the digest check, the diff against the last approval, the approvers. */
import { Link } from 'wouter';
import { type Review } from '../../api.js';
import { Safe } from '../../components/Safe.js';
import { DataTable, StateBadge } from '../../components/ui.js';
import { type DigestCheck } from '../../lib/digest.js';
import { diffBodies, valueText } from '../../lib/diff.js';
import { requestPath } from '../../lib/paths.js';

export function DigestStatus({
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

export function Diff({
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
        <DataTable caption="Changes" columns={['Field', 'Before', 'Now']}>
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
        </DataTable>
      )}
    </section>
  );
}

export function Approvers({ review }: { readonly review: Review }) {
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
