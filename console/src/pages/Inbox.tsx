import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link } from 'wouter';
import { api, type InboxRow } from '../api.js';
import { Safe } from '../components/Safe.js';
import { DataTable, Loading, ProblemAlert, RiskFlags, StateBadge } from '../components/ui.js';
import { requestPath } from '../lib/paths.js';
import { problemOf } from '../lib/problem.js';
import { ageText } from '../lib/risk.js';
import { may } from '../lib/roles.js';
import { useSession } from '../session.js';

const PAGE = 50;

function RequestTable({
  rows,
  caption,
  showRequester,
}: {
  readonly rows: readonly InboxRow[];
  readonly caption: string;
  readonly showRequester: boolean;
}) {
  return (
    <DataTable
      caption={caption}
      columns={[
        'Subject',
        'Action',
        'Environment',
        showRequester && 'Requester',
        'State',
        'Approvals',
        'Age',
        'Risk',
      ]}
    >
      {rows.map((r) => (
        <tr key={r.id}>
          <td>
            <Link href={requestPath(r.id)}>
              <Safe v={r.subject} />
            </Link>
          </td>
          <td>
            <Safe v={r.action} />
          </td>
          <td>
            <Safe v={r.environment} />
          </td>
          {showRequester && (
            <td>
              <Safe v={r.requester} />
            </td>
          )}
          <td>
            <StateBadge state={r.state} />
          </td>
          <td>{`${r.approvals} of ${r.requiredApprovals}`}</td>
          <td>{ageText(r.ageMs)}</td>
          <td>
            <RiskFlags flags={r.riskFlags.map((code) => ({ code }))} />
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

function RequestList({
  id,
  title,
  params,
  empty,
  showRequester,
}: {
  readonly id: string;
  readonly title: string;
  readonly params: Readonly<Record<string, string>>;
  readonly empty: string;
  readonly showRequester: boolean;
}) {
  const q = useInfiniteQuery({
    queryKey: ['requests', params],
    queryFn: ({ pageParam }) => api.requests({ ...params, limit: PAGE, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
  const rows = q.data?.pages.flatMap((p) => p.requests) ?? [];
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {q.isPending && <Loading what={title.toLowerCase()} />}
      {q.error && <ProblemAlert problem={problemOf(q.error)} />}
      {q.data && rows.length === 0 && <p className="muted">{empty}</p>}
      {rows.length > 0 && (
        <RequestTable rows={rows} caption={title} showRequester={showRequester} />
      )}
      {q.hasNextPage && (
        <button
          type="button"
          onClick={() => void q.fetchNextPage()}
          disabled={q.isFetchingNextPage}
        >
          {q.isFetchingNextPage ? 'Loading…' : `More ${title.toLowerCase()}`}
        </button>
      )}
    </section>
  );
}

export function InboxPage() {
  const { principal } = useSession();
  useEffect(() => {
    document.title = 'Inbox · countersign';
  }, []);
  const approver = may(principal.roles, 'POST /v1/requests/:id/decisions');
  const requester = may(principal.roles, 'POST /v1/requests');
  return (
    <>
      <h1>Inbox</h1>
      {approver && (
        <RequestList
          id="awaiting"
          title="Awaiting your decision"
          params={{ awaiting: 'me', order: 'oldest' }}
          empty="Nothing is waiting for your decision."
          showRequester
        />
      )}
      {requester && (
        <RequestList
          id="mine"
          title="Your requests"
          params={{ requestedBy: 'me', order: 'newest' }}
          empty="You have not requested anything yet."
          showRequester={false}
        />
      )}
      {!approver && !requester && (
        <RequestList
          id="all"
          title="All requests"
          params={{ order: 'newest' }}
          empty="There are no requests."
          showRequester
        />
      )}
    </>
  );
}
