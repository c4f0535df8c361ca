import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link } from 'wouter';
import { api } from '../api.js';
import { asText, Safe } from '../components/Safe.js';
import { DataTable, Loading, ProblemAlert, StateBadge } from '../components/ui.js';
import { isRequestId } from '../lib/digest.js';
import { timelinePath } from '../lib/paths.js';
import { problemOf } from '../lib/problem.js';

export function ExceptionsPage() {
  const q = useQuery({ queryKey: ['exceptions'], queryFn: api.exceptions });
  useEffect(() => {
    document.title = 'Exceptions · countersign';
  }, []);
  const rows = q.data?.exceptions ?? [];
  return (
    <>
      <h1>Exceptions</h1>
      <p className="muted">
        Every approved time-boxed grant, and whether it was revoked on every target.
      </p>
      {q.isPending && <Loading what="the exceptions report" />}
      {q.error && <ProblemAlert problem={problemOf(q.error)} />}
      {q.data && rows.length === 0 && <p className="muted">No exceptions.</p>}
      {rows.length > 0 && (
        <DataTable
          caption="Exceptions"
          columns={[
            'Subject',
            'Environment',
            'Scope',
            'Window',
            'Status',
            'Targets',
            'Log indices',
            'Request',
          ]}
        >
          {rows.map((e) => (
            <tr key={e.warrantId}>
              <td>
                <Safe v={e.subject} />
              </td>
              <td>
                <Safe v={e.environment} />
              </td>
              <td>
                <Safe
                  v={e.scope.map((s) => `${s.resource} [${s.permissions.join(', ')}]`).join('; ')}
                />
              </td>
              <td>{`${e.notBefore} to ${e.endsAt}`}</td>
              <td>
                <StateBadge state={e.status} />
                {e.lateRevocation && <span className="flag flag-warn">late revocation</span>}
              </td>
              <td>
                <ul className="plain">
                  {e.targets.map((t) => (
                    <li key={t.target}>
                      <Safe v={t.target} />
                      {`: ${t.revoked ? `revoked ${asText(t.revocationReportedAt)}` : 'not revoked'}${t.late ? ' (late)' : ''}${t.observedGone ? ', observed gone' : ''}`}
                    </li>
                  ))}
                </ul>
              </td>
              <td className="mono small">{e.logIndices.join(', ')}</td>
              <td>
                {isRequestId(e.requestId) ? (
                  <Link href={timelinePath(e.requestId)}>Timeline</Link>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  );
}
