import { digestOf } from '../core/canonical.js';
import type { Clock } from '../core/clock.js';
import { CountersignError, isCountersignError } from '../core/errors.js';

/**
 * The credential-broker port: a connector mints a short-lived credential for exactly
 * what a warrant approved, revokes it, and reports what the target system actually
 * holds. Services call a connector after the commit that spent the use, never inside
 * the transaction. Types and pure helpers only: no I/O here.
 */

/** What one grant asks for. */
export interface GrantRequest {
  /**
   * A stable id chosen by countersign. A retried grant with the same id must not
   * make a second credential: connectors derive their handle from it.
   */
  readonly grantId: string;
  /** The NHI the credential is for, for comments and labels only. */
  readonly subject: string;
  /** Concrete resources (no `*`), each with the permissions approved on it. */
  readonly scope: readonly { resource: string; permissions: readonly string[] }[];
  /** The credential must not outlive this. */
  readonly notAfter: Date;
}

/** What a grant returns. The credential is handed to the executor once and never stored. */
export interface Grant {
  /** E.g. `{PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD}`. Secret. */
  readonly credential: Readonly<Record<string, string>>;
  /** SHA-256 of the canonical credential: what receipts and the log may hold instead. */
  readonly fingerprint: `sha256:${string}`;
  /** What `revoke` needs, never secret (for PostgreSQL, the role name). */
  readonly handle: string;
}

/** One privilege the target holds, as `observe()` saw it. */
export interface ConnectorObservation {
  /** The connector's name. */
  readonly target: string;
  /** The NHI a managed credential was minted for; null for anything the connector did not mint. */
  readonly subject: string | null;
  readonly role: string;
  /** E.g. `pg/<connector>/public/orders`. */
  readonly resource: string;
  /** The countersign permission the privilege maps back to, or the raw privilege lowercased. */
  readonly permission: string;
  /** ISO 8601, or null when the credential does not expire. */
  readonly validUntil: string | null;
  /** Minted by this connector. */
  readonly managed: boolean;
  /**
   * The grant a managed credential says it was minted for. A claim read from the target,
   * which whoever can create credentials there could forge: the broker believes it only
   * when its own grant row agrees.
   */
  readonly grantId?: string;
}

export interface Connector {
  readonly name: string;
  grant(req: GrantRequest): Promise<Grant>;
  /**
   * The handle a grant id leads to, known before `grant` answers: what lets a grant
   * whose answer was lost be revoked all the same.
   */
  handleFor(grantId: string): string;
  /**
   * Why this scope can never be granted as written (a system schema, an unmapped
   * permission), or null. Asked when a request is created, so that it is refused there
   * and not, after its approvals, at every redemption. Whether a table exists is the
   * target's answer at grant time.
   */
  scopeProblem?(scope: GrantRequest['scope']): string | null;
  /** Idempotent: revoking a credential that is already gone succeeds. */
  revoke(handle: string): Promise<void>;
  observe(): Promise<ConnectorObservation[]>;
  close(): Promise<void>;
}

/**
 * - `CONNECTOR_FAILED`: the target system could not be reached, refused, or did not
 *   end up in the state asked for. Retrying may help.
 * - `CONNECTOR_SCOPE_INVALID`: the request or handle can never succeed as written
 *   (a resource of another connector, an unknown permission or table, a bad window).
 */
export type ConnectorErrorCode = 'CONNECTOR_FAILED' | 'CONNECTOR_SCOPE_INVALID';

export function connectorError(
  code: ConnectorErrorCode,
  message: string,
  details?: Record<string, unknown>,
): CountersignError<ConnectorErrorCode> {
  return new CountersignError(code, message, details === undefined ? undefined : { details });
}

/** The fingerprint receipts carry: `digestOf` over the credential's canonical JSON. */
export function credentialFingerprint(
  credential: Readonly<Record<string, string>>,
): `sha256:${string}` {
  return digestOf(credential);
}

const GRANT_ID = /^[A-Za-z0-9._:@=+-]{1,200}$/;
const MAX_SUBJECT_LENGTH = 512;

/** A grant id `assertGrantRequest` admits: what a connector whose handle is the id checks. */
export function isGrantId(id: string): boolean {
  return GRANT_ID.test(id);
}

/**
 * The checks every connector makes before touching its target: a grant id that can be
 * written into a label and read back, a subject of sane length, a non-empty scope, and
 * a window end that is a real instant still in the future.
 */
export function assertGrantRequest(name: string, req: GrantRequest, clock: Clock): void {
  const invalid = (why: string) =>
    connectorError('CONNECTOR_SCOPE_INVALID', `connector "${name}": ${why}`, { connector: name });
  if (!isGrantId(req.grantId)) throw invalid('grantId is not a plain identifier');
  if (req.subject.length === 0 || req.subject.length > MAX_SUBJECT_LENGTH) {
    throw invalid('subject is empty or too long');
  }
  if (req.scope.length === 0) throw invalid('scope names no resource');
  for (const entry of req.scope) {
    if (entry.permissions.length === 0) throw invalid('a scope entry names no permission');
  }
  const end = req.notAfter.getTime();
  if (!Number.isFinite(end)) throw invalid('notAfter is not a valid time');
  if (end <= clock.now().getTime()) throw invalid('notAfter is not in the future');
}

/**
 * Replaces every occurrence of each secret in `text`, so that a driver's message can
 * be passed on without the URL or a password it might echo.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    // Even a short secret is replaced: a garbled message is better than a leaked one.
    if (s.length > 0) out = out.split(s).join('[redacted]');
  }
  return out;
}

/**
 * A driver's failure as `CONNECTOR_FAILED`: its message with every secret replaced,
 * and its SQLSTATE (or similar code) in the details. No `cause`: the driver's error is
 * not ours to vouch for, and loggers print causes. Countersign errors pass unchanged.
 */
export function driverError(
  name: string,
  operation: string,
  e: unknown,
  secrets: readonly string[],
): CountersignError {
  if (isCountersignError(e)) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as {
    message?: unknown;
    code?: unknown;
  };
  const code = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : null;
  const why = redact(String(err.message ?? e), secrets).slice(0, 300);
  return connectorError('CONNECTOR_FAILED', `connector "${name}": ${operation} failed: ${why}`, {
    connector: name,
    operation,
    ...(code === null ? {} : { sqlstate: code }),
  });
}
