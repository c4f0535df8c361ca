/** The request body, field by field, and what the registry says of its subject. */
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api.js';
import { asText, Safe } from '../../components/Safe.js';
import { DataTable, Row } from '../../components/ui.js';
import { durationText } from '../../lib/risk.js';
import { isObj, list, member as field } from '../../lib/unknown.js';

function Scope({ scope }: { readonly scope: unknown }) {
  const rows = list(scope);
  return (
    <DataTable caption="Scope" columns={['Resource', 'Permissions', 'Constraints']}>
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
    </DataTable>
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
export function SubjectContext({ subject }: { readonly subject: unknown }) {
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

export function Body({ body }: { readonly body: unknown }) {
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
