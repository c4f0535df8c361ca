/**
 * The credential brokers a server config names. Their secrets (a PostgreSQL admin URL,
 * a webhook's bearer token) come from a file (`urlFile`, `tokenFile`) or an environment
 * variable (`urlEnv`, `tokenEnv`), never inline, and never appear in a log line or an error.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import type { Connector } from '../connectors/connector.js';
import { postgresConnector } from '../connectors/postgres.js';
import { webhookConnector, webhookUrlProblem, type SealCall } from '../connectors/webhook.js';
import type { Clock } from '../core/clock.js';
import { CountersignError } from '../core/errors.js';
import { signEnvelope } from '../evidence/dsse.js';
import type { KeyRing } from '../keys/keyring.js';

const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });
const EnvName = Type.String({ minLength: 1, pattern: '^[A-Za-z_][A-Za-z0-9_]*$' });

const PostgresConfigSchema = Type.Object(
  {
    name: Name,
    kind: Type.Literal('postgres'),
    /** A file holding the admin connection URL (e.g. a mounted secret). */
    urlFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Or the environment variable holding it. */
    urlEnv: Type.Optional(EnvName),
    database: Type.String({ minLength: 1, maxLength: 63 }),
    host: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    schemaAllow: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    privileges: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))),
    protectedTables: Type.Optional(Type.Array(Type.String({ minLength: 3 }))),
    statementTimeoutMs: Type.Optional(Type.Integer({ minimum: 100 })),
  },
  { additionalProperties: false },
);

const WebhookConfigSchema = Type.Object(
  {
    name: Name,
    kind: Type.Literal('webhook'),
    /** Where grant and revoke calls are POSTed (http or https, no userinfo). */
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    /** Where observe GETs the target's state; none, and observe reports nothing. */
    observeUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    /** A file holding the bearer token the receiver expects, if it expects one. */
    tokenFile: Type.Optional(Type.String({ minLength: 1 })),
    /** Or the environment variable holding it. */
    tokenEnv: Type.Optional(EnvName),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000 })),
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
  },
  { additionalProperties: false },
);

export const ConnectorConfigSchema = Type.Union([PostgresConfigSchema, WebhookConfigSchema]);
export type ConnectorConfig = Static<typeof ConnectorConfigSchema>;
export type WebhookConnectorConfigEntry = Static<typeof WebhookConfigSchema>;

const invalid = (message: string) => new CountersignError('CONFIG_INVALID', message);

/** A secret from a file or the environment; undefined when neither is configured. */
function secret(
  c: ConnectorConfig,
  what: string,
  [fileKey, file]: readonly [string, string | undefined],
  [envKey, envName]: readonly [string, string | undefined],
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (file !== undefined && envName !== undefined) {
    throw invalid(`connector ${c.name}: give the ${what} once, by ${fileKey} or ${envKey}`);
  }
  if (envName !== undefined) {
    const v = env[envName];
    if (!v) throw invalid(`connector ${c.name}: the environment has no ${envName}`);
    return v.trim();
  }
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw invalid(`connector ${c.name}: cannot read the ${what} file ${file}`);
  }
}

// RFC 6750 §2.1 b64token: anything else would not survive a header (and an invalid
// header's error message would quote it).
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

function webhook(
  c: WebhookConnectorConfigEntry,
  env: NodeJS.ProcessEnv,
  clock: Clock,
  seal: SealCall,
): Connector {
  for (const [field, url] of [
    ['url', c.url],
    ['observeUrl', c.observeUrl],
  ] as const) {
    const problem = url === undefined ? null : webhookUrlProblem(url);
    if (problem !== null) throw invalid(`connector ${c.name}: ${field} ${problem}`);
  }
  const token = secret(c, 'token', ['tokenFile', c.tokenFile], ['tokenEnv', c.tokenEnv], env);
  if (token !== undefined && !BEARER_TOKEN.test(token)) {
    throw invalid(`connector ${c.name}: the token is not an RFC 6750 bearer token`);
  }
  const { tokenFile: _f, tokenEnv: _e, kind: _k, ...rest } = c;
  return webhookConnector({ ...rest, ...(token === undefined ? {} : { token }) }, { seal, clock });
}

/**
 * Builds every configured connector; a name given twice refuses the config. Webhook
 * calls are signed as DSSE envelopes with the active key of the ring `keys` returns
 * when the call is made, so a rotation takes effect on the next call.
 */
export function buildConnectors(
  configs: readonly ConnectorConfig[],
  env: NodeJS.ProcessEnv,
  clock: Clock,
  keys: () => KeyRing,
): Map<string, Connector> {
  const seal: SealCall = (payloadType, payload) => {
    // One ring for the keyid and the signature, whatever a rotation does meanwhile.
    const ring = keys();
    return signEnvelope(payloadType, payload, {
      keyid: ring.activeKid,
      sign: (data) => ring.signBytes(data).signature,
    });
  };
  const out = new Map<string, Connector>();
  for (const c of configs) {
    if (out.has(c.name)) throw invalid(`connector ${c.name} is configured twice`);
    if (c.kind === 'webhook') {
      out.set(c.name, webhook(c, env, clock, seal));
      continue;
    }
    const url = secret(c, 'admin URL', ['urlFile', c.urlFile], ['urlEnv', c.urlEnv], env);
    if (url === undefined) {
      throw invalid(`connector ${c.name}: give the admin URL once, by urlFile or urlEnv`);
    }
    const { urlFile: _f, urlEnv: _e, kind: _k, ...rest } = c;
    out.set(c.name, postgresConnector({ ...rest, url }, { clock }));
  }
  return out;
}
