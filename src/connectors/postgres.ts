import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { systemClock, type Clock } from '../core/clock.js';
import { sha256Hex } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import {
  assertGrantRequest,
  connectorError,
  credentialFingerprint,
  driverError,
  type Connector,
  type ConnectorErrorCode,
  type ConnectorObservation,
  type Grant,
  type GrantRequest,
} from './connector.js';
import {
  OBSERVE_SQL,
  observeParams,
  toObservations,
  type ObservedRow,
} from './postgres-observe.js';
import {
  isManagedRoleName,
  parseGrantComment,
  planGrant,
  postgresSettings,
  roleNameFor,
  type GrantPlan,
  type PostgresConnectorConfig,
  type PostgresSettings,
} from './postgres-plan.js';
import { scramSha256Secret } from './scram.js';

export type { PostgresConnectorConfig } from './postgres-plan.js';
export { roleNameFor } from './postgres-plan.js';

/**
 * The PostgreSQL connector: one login role per grant, `cs_<12 hex of SHA-256(grantId)>`,
 * holding exactly the approved table privileges (plus USAGE on their schemas) until
 * `VALID UNTIL` at the window's end.
 *
 * `VALID UNTIL` only stops new password logins, so `revoke` ends the role's sessions
 * before dropping it. The admin role needs CREATEROLE, the grant option on the tables
 * and schemas it hands out, and pg_signal_backend; a superuser has all of these. An
 * admin that is not a superuser makes itself a member of each role it mints, because
 * PostgreSQL lets only members run `REASSIGN OWNED` and `DROP OWNED` for a role.
 *
 * SQL text never carries a value from a request: catalog lookups take parameters, and
 * DDL (which cannot) quotes identifiers and literals with pg's own escape functions,
 * only after the catalog confirmed each table.
 */
export function postgresConnector(
  config: PostgresConnectorConfig,
  options: { readonly clock?: Clock } = {},
): Connector {
  return new PostgresConnector(postgresSettings(config), options.clock ?? systemClock);
}

// Namespaces this connector's advisory locks (pg_advisory_xact_lock(int, int)): 'cs'.
const LOCK_CLASS = 0x6373;
// The one key under which this connector rewrites table and schema ACLs ('ca').
const ACL_LOCK_CLASS = 0x6361;
const TERMINATE_WAIT_MS = 5000;

class PostgresConnector implements Connector {
  readonly name: string;
  readonly #s: PostgresSettings;
  readonly #clock: Clock;
  readonly #pool: pg.Pool;
  #closed = false;
  #databaseChecked = false;
  #superuser: boolean | null = null;

  constructor(settings: PostgresSettings, clock: Clock) {
    this.name = settings.name;
    this.#s = settings;
    this.#clock = clock;
    this.#pool = new pg.Pool({
      connectionString: settings.url,
      max: 2,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      // A DBA's open transaction holding a lock this connector needs would otherwise hold a
      // redemption, and the revocation sweep behind it, for as long as it stays open.
      statement_timeout: settings.statementTimeoutMs,
      lock_timeout: settings.statementTimeoutMs,
      // And a server that stops answering altogether, which the server-side limits miss.
      query_timeout: settings.statementTimeoutMs + 5_000,
      application_name: `countersign-connector-${settings.name}`,
    });
    // A client whose server went away emits 'error'; unheard, it would end the process.
    // The failing query reports it, and the pool drops the client.
    this.#pool.on('error', () => undefined);
    this.#pool.on('connect', (client) => client.on('error', () => undefined));
  }

  async grant(req: GrantRequest): Promise<Grant> {
    assertGrantRequest(this.name, req, this.#clock);
    const plan = planGrant(this.#s, req);
    const password = randomBytes(32).toString('base64url');
    const secret = await scramSha256Secret(password);
    await this.#transaction('grant', [password, secret], async (c) => {
      await lockRole(c, plan.role);
      // Again under the role's lock: a sweep past the window's end takes this lock too,
      // so it either drops what was made before it or comes before a grant refused here.
      if (req.notAfter.getTime() <= this.#clock.now().getTime()) {
        throw this.#error('CONNECTOR_SCOPE_INVALID', 'the window ended while the grant waited');
      }
      await this.#assertDatabase(c);
      for (const t of plan.tables) {
        const found = await c.query(
          'SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2',
          [t.schema, t.table],
        );
        if (found.rowCount === 0) {
          const named = JSON.stringify(`${t.schema}.${t.table}`);
          throw this.#error('CONNECTOR_SCOPE_INVALID', `no such table ${named}`);
        }
      }
      const role = c.escapeIdentifier(plan.role);
      const login =
        `LOGIN PASSWORD ${c.escapeLiteral(secret)} ` +
        `VALID UNTIL ${c.escapeLiteral(req.notAfter.toISOString())}`;
      const existing = await c.query<{ comment: string | null }>(
        "SELECT shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1",
        [plan.role],
      );
      const row = existing.rows[0];
      if (row !== undefined) {
        // The same grant retried: a fresh password, the same role. A role of that name
        // minted for anything else is never taken over.
        if (parseGrantComment(row.comment)?.grantId !== req.grantId) {
          throw this.#error('CONNECTOR_FAILED', 'role name taken by a role of another grant');
        }
        await c.query(`ALTER ROLE ${role} WITH ${login}`);
      } else {
        await c.query(
          `CREATE ROLE ${role} WITH NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION ` +
            `NOBYPASSRLS NOINHERIT ${login}`,
        );
        await c.query(`COMMENT ON ROLE ${role} IS ${c.escapeLiteral(plan.comment)}`);
        if (!(await this.#isSuperuser(c))) await c.query(`GRANT ${role} TO CURRENT_USER`);
      }
      // PostgreSQL refuses a second concurrent GRANT on one object ("tuple concurrently
      // updated"): grants and drops of every role this connector mints take turns here.
      await lockAcls(c);
      for (const schema of plan.schemas) {
        await c.query(`GRANT USAGE ON SCHEMA ${c.escapeIdentifier(schema)} TO ${role}`);
      }
      for (const t of plan.tables) {
        const table = `${c.escapeIdentifier(t.schema)}.${c.escapeIdentifier(t.table)}`;
        await c.query(`GRANT ${t.privileges.join(', ')} ON TABLE ${table} TO ${role}`);
      }
      await this.#assertGranted(c, plan);
    });
    const credential = {
      PGHOST: this.#s.host,
      PGPORT: String(this.#s.port),
      PGDATABASE: this.#s.database,
      PGUSER: plan.role,
      PGPASSWORD: password,
    };
    return { credential, fingerprint: credentialFingerprint(credential), handle: plan.role };
  }

  handleFor(grantId: string): string {
    return roleNameFor(grantId);
  }

  scopeProblem(scope: GrantRequest['scope']): string | null {
    try {
      planGrant(this.#s, { grantId: 'scope-check', subject: '', scope, notAfter: new Date(0) });
      return null;
    } catch (e) {
      if (e instanceof CountersignError && e.code === 'CONNECTOR_SCOPE_INVALID') return e.message;
      throw e;
    }
  }

  async revoke(handle: string): Promise<void> {
    if (!isManagedRoleName(handle)) {
      throw this.#error('CONNECTOR_SCOPE_INVALID', 'handle is not a role this connector mints');
    }
    // First no new logins, then end the sessions (a dropped role's sessions live on),
    // then drop: a session that slipped in between is ended by its oid afterwards.
    const oid = await this.#transaction('revoke', [], async (c) => {
      const found = await this.#mintedRole(c, handle);
      if (found !== null) await c.query(`ALTER ROLE ${c.escapeIdentifier(handle)} NOLOGIN`);
      return found;
    });
    if (oid === null) return;
    await this.#endSessions('usename = $1', handle);
    await this.#transaction('revoke', [], async (c) => {
      if ((await this.#mintedRole(c, handle)) === null) return;
      const role = c.escapeIdentifier(handle);
      await lockAcls(c);
      await c.query(`REASSIGN OWNED BY ${role} TO CURRENT_USER`);
      await c.query(`DROP OWNED BY ${role}`);
      await c.query(`DROP ROLE IF EXISTS ${role}`);
    });
    await this.#endSessions('usesysid = $1', oid);
  }

  async observe(): Promise<ConnectorObservation[]> {
    const rows = await this.#transaction('observe', [], async (c) => {
      await this.#assertDatabase(c);
      return (await c.query<ObservedRow>(OBSERVE_SQL, observeParams(this.#s))).rows;
    });
    return toObservations(this.#s, rows);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  /** The role's oid, after locking it; null when gone. Refuses a role it did not mint. */
  async #mintedRole(c: pg.PoolClient, handle: string): Promise<string | null> {
    await lockRole(c, handle);
    const found = await c.query<{ oid: string; comment: string | null }>(
      "SELECT oid::text AS oid, shobj_description(oid, 'pg_authid') AS comment " +
        'FROM pg_roles WHERE rolname = $1',
      [handle],
    );
    const row = found.rows[0];
    if (row === undefined) return null;
    const minted = parseGrantComment(row.comment);
    if (minted === null || roleNameFor(minted.grantId) !== handle) {
      throw this.#error('CONNECTOR_FAILED', 'role was not minted by countersign; left alone');
    }
    return row.oid;
  }

  /** Ends the sessions matching `where` (a fixed condition on $1), waiting for each; fails if any remain. */
  async #endSessions(where: string, value: string): Promise<void> {
    await this.#transaction('revoke', [], async (c) => {
      const others = `${where} AND pid <> pg_backend_pid()`;
      await c.query(
        `SELECT pg_terminate_backend(pid, $2::bigint) FROM pg_stat_activity WHERE ${others}`,
        [value, TERMINATE_WAIT_MS],
      );
    });
    // pg_stat_activity is a snapshot per transaction: look again in a new one.
    const left = await this.#transaction('revoke', [], (c) =>
      c.query(`SELECT 1 FROM pg_stat_activity WHERE ${where} AND pid <> pg_backend_pid()`, [value]),
    );
    if ((left.rowCount ?? 0) > 0) throw this.#error('CONNECTOR_FAILED', 'a session did not end');
  }

  async #assertDatabase(c: pg.PoolClient): Promise<void> {
    if (this.#databaseChecked) return;
    const r = await c.query<{ db: string }>('SELECT current_database() AS db');
    // Grants live in one database: ones made in another would leave the credential empty.
    if (r.rows[0]?.db !== this.#s.database) {
      throw this.#error('CONNECTOR_FAILED', 'the admin url names another database');
    }
    this.#databaseChecked = true;
  }

  async #isSuperuser(c: pg.PoolClient): Promise<boolean> {
    if (this.#superuser === null) {
      const r = await c.query<{ su: boolean }>(
        'SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user',
      );
      this.#superuser = r.rows[0]?.su === true;
    }
    return this.#superuser;
  }

  /**
   * GRANT without the grant option only warns and grants nothing, so the privileges
   * are read back before commit: a credential never comes back short of its scope.
   */
  async #assertGranted(c: pg.PoolClient, plan: GrantPlan): Promise<void> {
    const t = plan.tables.flatMap((g) => g.privileges.map((p) => [g.schema, g.table, p]));
    const missing = await c.query(
      'SELECT 1 FROM unnest($2::text[], $3::text[], $4::text[]) AS g(s, t, p) ' +
        "WHERE NOT has_table_privilege($1::name, format('%I.%I', g.s, g.t), g.p) " +
        'UNION ALL SELECT 1 FROM unnest($5::text[]) AS s(n) ' +
        "WHERE NOT has_schema_privilege($1::name, s.n, 'USAGE')",
      [plan.role, t.map((x) => x[0]), t.map((x) => x[1]), t.map((x) => x[2]), plan.schemas],
    );
    if ((missing.rowCount ?? 0) > 0) {
      throw this.#error('CONNECTOR_FAILED', 'the admin role could not grant every privilege');
    }
  }

  /** Runs `fn` in a transaction; any failure becomes a CountersignError free of secrets. */
  async #transaction<T>(
    operation: string,
    secrets: readonly string[],
    fn: (c: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw this.#error('CONNECTOR_FAILED', 'connector is closed');
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      client.release();
      return out;
    } catch (e) {
      if (client !== undefined) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release(true); // its state is unknown: do not hand it out again
      }
      throw driverError(this.name, operation, e, [...this.#s.secrets, ...secrets]);
    }
  }

  #error(code: ConnectorErrorCode, why: string): CountersignError<ConnectorErrorCode> {
    return connectorError(code, `connector "${this.name}": ${why}`, { connector: this.name });
  }
}

/** Serialises grant and revoke of one role across every countersign node. */
async function lockRole(c: pg.PoolClient, role: string): Promise<void> {
  const key = Number.parseInt(sha256Hex(role).slice(0, 8), 16) | 0;
  await c.query('SELECT pg_advisory_xact_lock($1::int, $2::int)', [LOCK_CLASS, key]);
}

/** Serialises this connector's ACL rewrites (GRANT, DROP OWNED) across every node. */
async function lockAcls(c: pg.PoolClient): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1::int, 0)', [ACL_LOCK_CLASS]);
}
