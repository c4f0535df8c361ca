import { sha256Hex } from '../core/crypto.js';
import { connectorError, type GrantRequest } from './connector.js';

/**
 * The pure half of the PostgreSQL connector: its configuration, what a grant means in
 * roles and privileges, and how a role is recognised as one it minted. No SQL runs here.
 */

export interface PostgresConnectorConfig {
  /** The connector's name: the second segment of its resources, `pg/<name>/<schema>/<table>`. */
  readonly name: string;
  /** Admin connection URL to `database`. Secret: never logged, never in an error. */
  readonly url: string;
  /** The database the minted credentials connect to; the admin URL must name it too. */
  readonly database: string;
  /** Host and port written into the credential; default from the URL. */
  readonly host?: string;
  readonly port?: number;
  /** Schemas a grant may name; default any but the system schemas. */
  readonly schemaAllow?: readonly string[];
  /** Permission → table privileges. Default read: SELECT, write: INSERT+UPDATE, delete: DELETE. */
  readonly privileges?: Readonly<Record<string, readonly string[]>>;
  /** `schema.table` names whose every grantee `observe()` reports, minted or not. */
  readonly protectedTables?: readonly string[];
  /** How long to wait for a connection. Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** How long one statement, or its wait for a lock, may take. Default 10 s. */
  readonly statementTimeoutMs?: number;
}

export interface PostgresSettings {
  readonly name: string;
  readonly url: string;
  readonly database: string;
  readonly host: string;
  readonly port: number;
  readonly schemaAllow: ReadonlySet<string> | null;
  readonly privileges: ReadonlyMap<string, readonly TablePrivilege[]>;
  readonly protectedTables: readonly TableName[];
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /** The URL and its password, raw and decoded: what error messages must never show. */
  readonly secrets: readonly string[];
}

export interface TableName {
  readonly schema: string;
  readonly table: string;
}

/** The table privileges a permission may map to; they are written into DDL unquoted. */
export const TABLE_PRIVILEGES = [
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'REFERENCES',
  'TRIGGER',
] as const;
export type TablePrivilege = (typeof TABLE_PRIVILEGES)[number];

export const DEFAULT_PRIVILEGES: Readonly<Record<string, readonly TablePrivilege[]>> = {
  read: ['SELECT'],
  write: ['INSERT', 'UPDATE'],
  delete: ['DELETE'],
};

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const PERMISSION = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_IDENTIFIER_BYTES = 63; // NAMEDATALEN - 1: longer names are truncated, not refused

function configError(name: string, why: string) {
  return connectorError('CONNECTOR_FAILED', `connector "${name}": config: ${why}`, {
    connector: name,
  });
}

function isTablePrivilege(p: string): p is TablePrivilege {
  return (TABLE_PRIVILEGES as readonly string[]).includes(p);
}

/** Validates a connector's config once, at construction. Never echoes the URL. */
export function postgresSettings(config: PostgresConnectorConfig): PostgresSettings {
  const name = config.name;
  if (!NAME.test(name)) throw configError('?', 'name must be 1-64 of [A-Za-z0-9._-]');
  if (config.database.length === 0) throw configError(name, 'database is empty');

  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    // The URL parser's own error carries the input; this one must not.
    throw configError(name, 'url is not a valid URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw configError(name, 'url must be postgres:// or postgresql://');
  }
  const password = url.password;
  const secrets = [config.url, password, safeDecode(password)].filter((s) => s.length > 0);

  const urlHost = url.searchParams.get('host') ?? safeDecode(url.hostname).replace(/^\[|\]$/g, '');
  const host = config.host ?? urlHost;
  if (host.length === 0) throw configError(name, 'no host in url; set host');
  const port = config.port ?? Number(url.port || url.searchParams.get('port') || 5432);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw configError(name, 'bad port');

  const privileges = new Map<string, TablePrivilege[]>();
  for (const [permission, privs] of Object.entries(config.privileges ?? DEFAULT_PRIVILEGES)) {
    if (!PERMISSION.test(permission)) throw configError(name, `bad permission name`);
    const upper = privs.map((p) => p.toUpperCase());
    const known = upper.filter(isTablePrivilege);
    if (known.length === 0 || known.length !== upper.length) {
      throw configError(name, `permission ${permission} maps to no or unknown table privileges`);
    }
    privileges.set(permission, [...new Set(known)]);
  }

  const protectedTables = (config.protectedTables ?? []).map((qualified) => {
    const dot = qualified.indexOf('.');
    const t = { schema: qualified.slice(0, dot), table: qualified.slice(dot + 1) };
    if (dot <= 0 || t.table.length === 0) {
      throw configError(name, 'protectedTables entries are schema.table');
    }
    return t;
  });

  const timeout = config.connectTimeoutMs ?? 10_000;
  if (!Number.isInteger(timeout) || timeout <= 0) throw configError(name, 'bad connectTimeoutMs');
  const statementTimeout = config.statementTimeoutMs ?? 10_000;
  if (!Number.isInteger(statementTimeout) || statementTimeout <= 0) {
    throw configError(name, 'bad statementTimeoutMs');
  }

  return {
    name,
    url: config.url,
    database: config.database,
    host,
    port,
    schemaAllow: config.schemaAllow === undefined ? null : new Set(config.schemaAllow),
    privileges,
    protectedTables,
    connectTimeoutMs: timeout,
    statementTimeoutMs: statementTimeout,
    secrets,
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `cs_` and 12 hex digits of SHA-256(grantId): the same grant always names the same role. */
export function roleNameFor(grantId: string): string {
  return `cs_${sha256Hex(grantId).slice(0, 12)}`;
}

const MANAGED_ROLE = /^cs_[0-9a-f]{12}$/;
export const isManagedRoleName = (role: string): boolean => MANAGED_ROLE.test(role);

/** The COMMENT ON ROLE that marks a role as minted, and names what it was minted for. */
export function grantComment(grantId: string, subject: string): string {
  return `countersign grant ${grantId} for ${subject}`;
}

/** Reads back a comment written by {@link grantComment}; null for anything else. */
export function parseGrantComment(
  comment: string | null,
): { grantId: string; subject: string } | null {
  const m = /^countersign grant (\S+) for (.+)$/s.exec(comment ?? '');
  return m?.[1] === undefined || m[2] === undefined ? null : { grantId: m[1], subject: m[2] };
}

export interface TableGrant extends TableName {
  readonly privileges: readonly TablePrivilege[];
}

export interface GrantPlan {
  readonly role: string;
  readonly comment: string;
  /** Distinct schemas, for USAGE. */
  readonly schemas: readonly string[];
  readonly tables: readonly TableGrant[];
}

/**
 * Turns a request's scope into the privileges to grant, refusing with
 * `CONNECTOR_SCOPE_INVALID` any resource outside `pg/<this connector>/<schema>/<table>`,
 * a system or disallowed schema, and any permission the config does not map. Whether
 * each table exists is the catalog's answer, asked before any DDL.
 */
export function planGrant(s: PostgresSettings, req: GrantRequest): GrantPlan {
  const invalid = (why: string) =>
    connectorError('CONNECTOR_SCOPE_INVALID', `connector "${s.name}": ${why}`, {
      connector: s.name,
    });
  const byTable = new Map<string, { schema: string; table: string; privs: Set<TablePrivilege> }>();
  for (const [i, entry] of req.scope.entries()) {
    const parts = entry.resource.split('/');
    const [kind, connector, schema, table] = parts;
    if (parts.length !== 4 || kind !== 'pg' || schema === undefined || table === undefined) {
      throw invalid(`scope[${i}]: resource is not pg/<connector>/<schema>/<table>`);
    }
    if (connector !== s.name) throw invalid(`scope[${i}]: resource belongs to another connector`);
    for (const id of [schema, table]) {
      const bytes = Buffer.byteLength(id);
      if (bytes === 0 || bytes > MAX_IDENTIFIER_BYTES || id === '*' || id.includes('\0')) {
        throw invalid(`scope[${i}]: schema and table must be concrete names of 1-63 bytes`);
      }
    }
    if (schema.startsWith('pg_') || schema === 'information_schema') {
      throw invalid(`scope[${i}]: system schemas are never granted`);
    }
    if (s.schemaAllow !== null && !s.schemaAllow.has(schema)) {
      throw invalid(`scope[${i}]: schema is not allowed`);
    }
    const key = JSON.stringify([schema, table]);
    const t = byTable.get(key) ?? { schema, table, privs: new Set<TablePrivilege>() };
    byTable.set(key, t);
    for (const permission of entry.permissions) {
      const privs = s.privileges.get(permission);
      if (privs === undefined) throw invalid(`scope[${i}]: unknown permission`);
      for (const p of privs) t.privs.add(p);
    }
  }
  const tables = [...byTable.values()].map((t) => ({
    schema: t.schema,
    table: t.table,
    privileges: TABLE_PRIVILEGES.filter((p) => t.privs.has(p)),
  }));
  return {
    role: roleNameFor(req.grantId),
    comment: grantComment(req.grantId, req.subject),
    schemas: [...new Set(tables.map((t) => t.schema))],
    tables,
  };
}

/** The permission a privilege maps back to (the first in config order), or the raw privilege lowercased. */
export function permissionFor(s: PostgresSettings, privilege: string): string {
  for (const [permission, privs] of s.privileges) {
    if ((privs as readonly string[]).includes(privilege)) return permission;
  }
  return privilege.toLowerCase();
}

export const resourceOf = (s: PostgresSettings, t: TableName): string =>
  `pg/${s.name}/${t.schema}/${t.table}`;
