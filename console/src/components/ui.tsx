import type { ReactNode } from 'react';
import type { Problem } from '../lib/problem.js';
import { riskLabel, sortRisk } from '../lib/risk.js';
import { Safe } from './Safe.js';

/** A server problem (RFC 9457) in words: its code, title and detail. */
export function ProblemAlert({
  problem,
  children,
}: {
  readonly problem: Problem;
  readonly children?: ReactNode;
}) {
  return (
    <div role="alert" className="alert alert-error">
      <p>
        <strong>{problem.title}</strong> <code className="code">{problem.code}</code>
        {problem.status > 0 && <span className="muted">{` (HTTP ${problem.status})`}</span>}
      </p>
      {problem.detail !== '' && (
        <p>
          <Safe v={problem.detail} />
        </p>
      )}
      {children}
    </div>
  );
}

export function Loading({ what }: { readonly what: string }) {
  return (
    <p role="status" className="muted">
      {`Loading ${what}…`}
    </p>
  );
}

export function RiskFlags({
  flags,
}: {
  readonly flags: readonly { readonly code: string; readonly message?: string }[];
}) {
  if (flags.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="flags" aria-label="Risk flags">
      {sortRisk(flags).map((f) => (
        <li key={f.code} className={`flag flag-${f.code === 'PRODUCTION' ? 'prod' : 'warn'}`}>
          {riskLabel(f.code)}
          {f.message !== undefined && f.message !== '' && (
            <span className="flag-detail">
              {': '}
              <Safe v={f.message} />
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

export function StateBadge({ state }: { readonly state: string }) {
  return (
    <span className={`badge badge-${/^[a-z_]+$/.test(state) ? state : 'unknown'}`}>{state}</span>
  );
}

/** A definition list row; the value is rendered through {@link Safe} unless it is an element. */
export function Row({ label, children }: { readonly label: string; readonly children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

/**
 * The console's one kind of table: a caption for screen readers, a header cell per
 * column (a `false` column is left out, for one shown only to some roles), and the rows.
 */
export function DataTable({
  caption,
  columns,
  children,
}: {
  readonly caption: ReactNode;
  readonly columns: readonly (string | false)[];
  readonly children: ReactNode;
}) {
  return (
    <table className="table">
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns
            .filter((c): c is string => c !== false)
            .map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
