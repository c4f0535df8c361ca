import { useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api } from '../api.js';
import { Safe } from '../components/Safe.js';
import { DataTable, Loading, ProblemAlert, Row, StateBadge } from '../components/ui.js';
import { usableKeys } from '../lib/inclusion.js';
import { openCheckpoint } from '../lib/note.js';
import { problemOf } from '../lib/problem.js';

export function LogPage() {
  const keys = useQuery({ queryKey: ['verifier-keys'], queryFn: api.verifierKeys });
  const note = useQuery({ queryKey: ['checkpoint'], queryFn: api.checkpoint });
  const checked = useQuery({
    queryKey: ['checkpoint-check', note.data, keys.data],
    queryFn: async () => openCheckpoint(note.data as string, (await usableKeys(keys.data)).keys),
    enabled: note.data !== undefined && keys.data !== undefined,
  });
  useEffect(() => {
    document.title = 'Log · countersign';
  }, []);
  const cp = checked.data;
  return (
    <>
      <h1>Transparency log</h1>
      <section aria-labelledby="cp">
        <h2 id="cp">Newest checkpoint</h2>
        {(note.isPending || keys.isPending) && <Loading what="the checkpoint" />}
        {note.error && <ProblemAlert problem={problemOf(note.error)} />}
        {cp && cp.ok && (
          <>
            <p role="status" className="alert alert-ok">
              ✓ Signature checked in your browser (Ed25519, C2SP signed note) by{' '}
              <Safe v={cp.value.verifiedBy.join(', ')} />
            </p>
            <dl className="facts">
              <Row label="Origin">
                <Safe v={cp.value.origin} />
              </Row>
              <Row label="Size">
                <strong data-testid="log-size">{cp.value.size.toLocaleString('en')}</strong> entries
              </Row>
              <Row label="Root hash">
                <span className="mono small">{cp.value.rootHashBase64}</span>
              </Row>
            </dl>
          </>
        )}
        {cp && !cp.ok && (
          <p role="alert" className="alert alert-error">
            {'✗ The checkpoint does not verify: '}
            <Safe v={cp.reason} />
          </p>
        )}
        {note.data !== undefined && (
          <pre className="raw" tabIndex={0} aria-label="Signed checkpoint note">
            <Safe v={note.data} />
          </pre>
        )}
      </section>
      <section aria-labelledby="keys">
        <h2 id="keys">Verifier keys</h2>
        {keys.error && <ProblemAlert problem={problemOf(keys.error)} />}
        {keys.data && (
          <DataTable
            caption="Verifier keys"
            columns={['Key id', 'State', 'Created', 'Verifier key (pin this)']}
          >
            {keys.data.keys.map((k) => (
              <tr key={k.kid}>
                <td className="mono small">
                  <Safe v={k.kid} />
                </td>
                <td>
                  <StateBadge state={k.state} />
                  {k.revokedAtIndex !== null && (
                    <span className="muted">{` at log index ${k.revokedAtIndex}`}</span>
                  )}
                </td>
                <td>{k.createdAt}</td>
                <td className="mono small break">
                  <Safe v={k.verifierKey} />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
    </>
  );
}
