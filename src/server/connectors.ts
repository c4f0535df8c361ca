/**
 * The credential brokers a server config names. Each one's admin URL is a secret: it
 * comes from a file (`urlFile`) or an environment variable (`urlEnv`), never inline,
 * and never appears in a log line or an error.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import type { Connector } from '../connectors/connector.js';
import { postgresConnector } from '../connectors/postgres.js';
import type { Clock } from '../core/clock.js';
import { CountersignError } from '../core/errors.js';

const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });

export const ConnectorConfigSchema = Type.Object(
  {
    name: Name,
    kind: Type.Literal('postgres'),
    /** A file holding the admin connection URL (e.g. a mounted secret). */
    urlFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Or the environment variable holding it. */
    urlEnv: Type.Optional(Type.String({ minLength: 1, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' })),
    database: Type.String({ minLength: 1, maxLength: 63 }),
    host: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    schemaAllow: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    privileges: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
    protectedTables: Type.Optional(Type.Array(Type.String({ minLength: 3 }))),
  },
  { additionalProperties: false },
);
export type ConnectorConfig = Static<typeof ConnectorConfigSchema>;

const invalid = (message: string) => new CountersignError('CONFIG_INVALID', message);

function adminUrl(c: ConnectorConfig, env: NodeJS.ProcessEnv): string {
  if ((c.urlFile === undefined) === (c.urlEnv === undefined)) {
    throw invalid(`connector ${c.name}: give the admin URL once, by urlFile or urlEnv`);
  }
  if (c.urlEnv !== undefined) {
    const v = env[c.urlEnv];
    if (!v) throw invalid(`connector ${c.name}: the environment has no ${c.urlEnv}`);
    return v.trim();
  }
  try {
    return readFileSync(c.urlFile as string, 'utf8').trim();
  } catch {
    throw invalid(`connector ${c.name}: cannot read urlFile ${c.urlFile}`);
  }
}

/** Builds every configured connector; a name given twice refuses the config. */
export function buildConnectors(
  configs: readonly ConnectorConfig[],
  env: NodeJS.ProcessEnv,
  clock: Clock,
): Map<string, Connector> {
  const out = new Map<string, Connector>();
  for (const c of configs) {
    if (out.has(c.name)) throw invalid(`connector ${c.name} is configured twice`);
    const { urlFile: _f, urlEnv: _e, kind: _k, ...rest } = c;
    out.set(c.name, postgresConnector({ ...rest, url: adminUrl(c, env) }, { clock }));
  }
  return out;
}
