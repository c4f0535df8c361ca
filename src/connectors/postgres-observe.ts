import type { ConnectorObservation } from './connector.js';
import {
  isManagedRoleName,
  parseGrantComment,
  permissionFor,
  resourceOf,
  roleNameFor,
  type PostgresSettings,
} from './postgres-plan.js';

/**
 * What the database holds: every privilege of a `cs_` role, every grantee of a
 * protected table, and each `cs_` role that holds nothing yet can still log in.
 *
 * Privileges are read from `pg_class.relacl` (`aclexplode`) rather than
 * `information_schema.role_table_grants`: that view only shows grants whose grantor or
 * grantee is one of the current user's roles, so an admin that is not a superuser would
 * miss exactly what matters here, a grant someone else made by hand. Two grantees are
 * left out on protected tables because they hold privileges by design: the table's
 * owner and the connector's own admin role. `PUBLIC` is reported as a role of its own.
 */
export const OBSERVE_SQL = `
WITH acl AS (
  SELECT n.nspname AS schema_name, c.relname AS table_name, c.relowner AS owner,
         a.grantee, a.privilege_type AS privilege
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL aclexplode(c.relacl) a
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
)
SELECT coalesce(r.rolname, 'PUBLIC') AS role, r.rolvaliduntil AS valid_until,
       shobj_description(r.oid, 'pg_authid') AS comment,
       acl.schema_name, acl.table_name, acl.privilege
FROM acl LEFT JOIN pg_roles r ON r.oid = acl.grantee
WHERE left(r.rolname, 3) = 'cs_'
   OR ((acl.schema_name, acl.table_name) IN (SELECT * FROM unnest($1::text[], $2::text[]))
       AND acl.grantee <> acl.owner
       AND acl.grantee <> (SELECT oid FROM pg_roles WHERE rolname = current_user))
UNION ALL
SELECT r.rolname, r.rolvaliduntil, shobj_description(r.oid, 'pg_authid'), NULL, NULL, NULL
FROM pg_roles r
WHERE left(r.rolname, 3) = 'cs_' AND NOT EXISTS (SELECT 1 FROM acl WHERE acl.grantee = r.oid)
ORDER BY 1, 4, 5, 6`;

export interface ObservedRow {
  readonly role: string;
  readonly valid_until: Date | number | null;
  readonly comment: string | null;
  readonly schema_name: string | null;
  readonly table_name: string | null;
  readonly privilege: string | null;
}

export function observeParams(s: PostgresSettings): [string[], string[]] {
  return [s.protectedTables.map((t) => t.schema), s.protectedTables.map((t) => t.table)];
}

/**
 * One observation per role, resource and permission. A `cs_` role that holds no table
 * privilege is reported on `pg/<connector>` with the permission `login`: it is still a
 * live credential until dropped, and absence from `observe()` must mean it is gone.
 */
export function toObservations(
  s: PostgresSettings,
  rows: readonly ObservedRow[],
): ConnectorObservation[] {
  const out = new Map<string, ConnectorObservation>();
  for (const row of rows) {
    const minted = parseGrantComment(row.comment);
    const managed =
      isManagedRoleName(row.role) && minted !== null && roleNameFor(minted.grantId) === row.role;
    const onTable = row.schema_name !== null && row.table_name !== null && row.privilege !== null;
    const o: ConnectorObservation = {
      target: s.name,
      subject: managed ? minted.subject : null,
      role: row.role,
      resource: onTable
        ? resourceOf(s, { schema: row.schema_name, table: row.table_name })
        : `pg/${s.name}`,
      permission: onTable ? permissionFor(s, row.privilege) : 'login',
      validUntil: instant(row.valid_until),
      managed,
      ...(managed ? { grantId: minted.grantId } : {}),
    };
    out.set(JSON.stringify([o.role, o.resource, o.permission]), o);
  }
  return [...out.values()];
}

/** pg reads `infinity` as a number; a role that never expires reads as null. */
function instant(v: Date | number | null): string | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v === Number.NEGATIVE_INFINITY) return new Date(-8.64e15).toISOString();
  return null;
}
