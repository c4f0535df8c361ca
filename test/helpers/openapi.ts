import type { Role } from '../../src/identity/roles.js';
import type { DevPrincipal, TestServer } from './server.js';

/** The part of a JSON Schema (as the OpenAPI document shows TypeBox's) that tests read. */
export interface Schema {
  readonly type?: 'object' | 'array' | 'integer' | 'number' | 'boolean' | 'string' | 'null';
  readonly properties?: Record<string, Schema>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly anyOf?: readonly Schema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly minimum?: number;
}

/** One operation of the served OpenAPI document. */
export interface Route {
  readonly method: string;
  /** As documented, with `{param}` placeholders. */
  readonly path: string;
  readonly params: readonly string[];
  readonly query: readonly string[];
  readonly bodySchema: Schema | null;
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Array<{ name: string; in: string }>;
        requestBody?: { content: Record<string, { schema: Schema }> };
      }
    >
  >;
}

/** Every operation the running server documents at `GET /openapi.json`. */
export async function documentedRoutes(s: TestServer): Promise<Route[]> {
  const doc = (await s.http('GET', '/openapi.json')).body as OpenApiDoc;
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      params: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      bodySchema: op.requestBody?.content['application/json']?.schema ?? null,
    })),
  );
}

/** The `ROUTE_ROLES` key of a documented route: `POST /v1/requests/:id/decisions`. */
export const routeKey = (r: Route): string => `${r.method} ${r.path.replace(/\{(\w+)\}/g, ':$1')}`;

/** One dev principal holding each role. */
export const PRINCIPAL_OF: Readonly<Record<Role, DevPrincipal>> = {
  requester: 'alice',
  approver: 'bob',
  executor: 'deploy-eu',
  observer: 'collector',
  auditor: 'audra',
  admin: 'admin',
};

/** A shape-right (not necessarily meaningful) value for a JSON Schema. */
export function sample(schema: Schema | undefined): unknown {
  if (!schema) return null;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return sample(schema.anyOf[0]);
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sample(v)]),
      );
    case 'array':
      return [sample(schema.items)];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      return 'fuzz';
    case 'null':
    case undefined:
    default:
      return null;
  }
}

/** The path (keys and array indices) of every string leaf of a value. */
export function stringPaths(v: unknown, prefix: readonly string[] = []): string[][] {
  if (typeof v === 'string') return [[...prefix]];
  if (v === null || typeof v !== 'object') return [];
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
  return entries.flatMap(([k, x]) => stringPaths(x, [...prefix, k]));
}

/** A copy of `v` with the value at `path` replaced. */
export function setAt(v: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const copy: Record<string, unknown> | unknown[] = Array.isArray(v)
    ? [...(v as unknown[])]
    : { ...(v as Record<string, unknown>) };
  (copy as Record<string, unknown>)[head] = setAt(
    (v as Record<string, unknown>)[head],
    rest,
    value,
  );
  return copy;
}
