import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { Link } from 'wouter';
import { api, type Finding } from '../api.js';
import { Safe } from '../components/Safe.js';
import { DataTable, Loading, ProblemAlert, StateBadge } from '../components/ui.js';
import { isRequestId } from '../lib/digest.js';
import { timelinePath } from '../lib/paths.js';
import { problemOf } from '../lib/problem.js';
import { may } from '../lib/roles.js';
import { useSession } from '../session.js';

function Acknowledge({ finding }: { readonly finding: Finding }) {
  const [reason, setReason] = useState('');
  const id = useId();
  const client = useQueryClient();
  const ack = useMutation({
    mutationFn: () => api.acknowledge(finding.id, reason.trim()),
    onSuccess: () => client.invalidateQueries({ queryKey: ['findings'] }),
  });
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        ack.mutate();
      }}
    >
      <label
        htmlFor={id}
        className="visually-hidden"
      >{`Reason to acknowledge finding ${finding.id}`}</label>
      <input
        id={id}
        value={reason}
        placeholder="reason"
        maxLength={2000}
        onChange={(e) => setReason(e.target.value)}
      />
      <button type="submit" disabled={reason.trim() === '' || ack.isPending}>
        Acknowledge
      </button>
      {ack.error && <ProblemAlert problem={problemOf(ack.error)} />}
    </form>
  );
}

export function FindingsPage() {
  const { principal } = useSession();
  const [state, setState] = useState('open');
  const [kind, setKind] = useState('');
  const [subject, setSubject] = useState('');
  const [applied, setApplied] = useState({ state: 'open', kind: '', subject: '' });
  const ids = { state: useId(), kind: useId(), subject: useId() };
  const q = useInfiniteQuery({
    queryKey: ['findings', applied],
    queryFn: ({ pageParam }) => api.findings({ ...applied, limit: 50, cursor: pageParam }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
  });
  useEffect(() => {
    document.title = 'Findings · countersign';
  }, []);
  const rows = q.data?.pages.flatMap((p) => p.findings) ?? [];
  const canAck = may(principal.roles, 'POST /v1/findings/:id/acknowledgement');
  return (
    <>
      <h1>Findings</h1>
      <form
        className="filters"
        aria-label="Filter findings"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ state, kind: kind.trim(), subject: subject.trim() });
        }}
      >
        <div className="field">
          <label htmlFor={ids.state}>State</label>
          <select id={ids.state} value={state} onChange={(e) => setState(e.target.value)}>
            <option value="open">open</option>
            <option value="acknowledged">acknowledged</option>
            <option value="resolved">resolved</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.kind}>Kind</label>
          <input
            id={ids.kind}
            value={kind}
            onChange={(e) => setKind(e.target.value)}
            placeholder="EXPIRED_NOT_REVOKED"
          />
        </div>
        <div className="field">
          <label htmlFor={ids.subject}>Subject</label>
          <input id={ids.subject} value={subject} onChange={(e) => setSubject(e.target.value)} />
        </div>
        <button type="submit">Filter</button>
      </form>
      {q.isPending && <Loading what="findings" />}
      {q.error && <ProblemAlert problem={problemOf(q.error)} />}
      {q.data && rows.length === 0 && <p className="muted">No findings match.</p>}
      {rows.length > 0 && (
        <DataTable
          caption="Findings"
          columns={[
            'Kind',
            'Subject',
            'Target',
            'State',
            'Detail',
            'Raised',
            'Request',
            canAck && 'Acknowledge',
          ]}
        >
          {rows.map((f) => (
            <tr key={f.id}>
              <td className="kind">
                <Safe v={f.kind} />
              </td>
              <td>
                {/* A caller's REDEMPTION_ABUSE with no warrant held names no subject. */}
                <Safe v={f.subject === '' ? '—' : f.subject} />
              </td>
              <td>
                <Safe v={f.target ?? '—'} />
              </td>
              <td>
                <StateBadge state={f.state} />
              </td>
              <td>
                <Safe v={f.detail} />
              </td>
              <td>{f.raisedAt}</td>
              <td>
                {f.requestId !== null && isRequestId(f.requestId) ? (
                  <Link href={timelinePath(f.requestId)}>Timeline</Link>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              {canAck && (
                <td>
                  {f.state === 'open' ? (
                    <Acknowledge finding={f} />
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              )}
            </tr>
          ))}
        </DataTable>
      )}
      {q.hasNextPage && (
        <button
          type="button"
          onClick={() => void q.fetchNextPage()}
          disabled={q.isFetchingNextPage}
        >
          More findings
        </button>
      )}
    </>
  );
}
