import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { ConnectorConfigSchema } from './connectors.js';
import { Type, type Static } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { CountersignError, isCountersignError } from '../core/errors.js';
import { parseStrictJson } from '../core/json.js';
import { parseYamlText } from '../core/yaml.js';
import { OidcConfigSchema } from '../identity/oidc/config.js';
import { ROLES } from '../identity/roles.js';
import { WEBHOOK_EVENTS } from '../service/webhooks.js';
import { assertWebhookEntries } from './webhook-config.js';

export type ConfigErrorCode = 'CONFIG_INVALID';

const PrincipalSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9._:@-]{1,128}$' }),
    roles: Type.Array(Type.Union(ROLES.map((r) => Type.Literal(r))), { minItems: 1 }),
    groups: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }))),
    tokenSha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);

/** `host:port`, the host a name, an IPv4 address or a bracketed IPv6 address. */
const LISTEN_PATTERN = '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):\\d{1,5}$';

/** The server configuration file (YAML or JSON). Every field is optional in dev mode. */
export const ConfigSchema = Type.Object(
  {
    host: Type.Optional(Type.String()),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    dataDir: Type.Optional(Type.String()),
    database: Type.Optional(Type.String()),
    /** PostgreSQL connections this node holds (`COUNTERSIGN_DATABASE_POOL`). Default 16. */
    databasePool: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    policyFile: Type.Optional(Type.String()),
    issuer: Type.Optional(Type.String({ minLength: 1 })),
    logOrigin: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._/:-]{1,200}$' })),
    kekFile: Type.Optional(Type.String()),
    bodyLimit: Type.Optional(Type.Integer({ minimum: 1024, maximum: 16 * 1024 * 1024 })),
    /** Load shedding (503 OVERLOADED): requests served at once; 0 turns the limit off. */
    maxInFlight: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    /** Mean event-loop delay (ms) above which new requests are refused; 0 turns it off. */
    maxEventLoopDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    /** V8 heap in use (MiB) above which new requests are refused; 0 turns it off. */
    maxHeapUsedMb: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    logLevel: Type.Optional(
      Type.Union(
        ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      ),
    ),
    principals: Type.Optional(Type.Array(PrincipalSchema)),
    /** Trusted OIDC issuers for people and workloads; validated by `parseOidcConfig`. */
    oidc: Type.Optional(OidcConfigSchema),
    reconcileInterval: Type.Optional(Type.String({ pattern: '^(\\d+[smhd])+$' })),
    /**
     * The MCP gateway's gating config, when one file configures both: the server ignores
     * it, and `countersign mcp-gateway --gateway-config` reads it (and validates it).
     */
    mcpGateway: Type.Optional(Type.Unknown()),
    /** Credential brokers (connectors.ts): each mints what its brokered grants approve. */
    connectors: Type.Optional(Type.Array(ConnectorConfigSchema, { maxItems: 64 })),
    /** How often due grants are revoked through their connectors. Default `15s`. */
    revocationInterval: Type.Optional(Type.String({ pattern: '^(\\d+[smhd])+$' })),
    /** How often each connector's target is observed for reconciliation. Default `15s`. */
    observeInterval: Type.Optional(Type.String({ pattern: '^(\\d+[smhd])+$' })),
    /** How long an event may wait outside a signed checkpoint before /readyz says not ready. */
    integrationLagBound: Type.Optional(Type.String({ pattern: '^(\\d+[smhd])+$' })),
    /**
     * How long after one target of a rotation is observed on its new version another
     * approved target may still be observed on the old one before it is reported
     * `UNFULFILLED_TARGET`, inside the window. Default `15m`.
     */
    driftGrace: Type.Optional(Type.String({ pattern: '^(\\d+[smhd])+$' })),
    /**
     * Prometheus metrics. `listen` (`host:port`, `[v6]:port`) also serves `GET /metrics`
     * there, without credentials and nothing else: for a scraper that holds no token. On
     * the API port, `GET /metrics` is for the roles of its row in `ROUTE_ROLES`.
     */
    metrics: Type.Optional(
      Type.Object(
        { listen: Type.Optional(Type.String({ pattern: LISTEN_PATTERN })) },
        { additionalProperties: false },
      ),
    ),
    /** The approver console (issue 16): its sessions, the origin it is reached at, its files. */
    console: Type.Optional(
      Type.Object(
        {
          /** A session unused this long ends. Default `30m`. */
          sessionIdle: Type.Optional(Type.String({ pattern: '^(\\d+[smhd])+$' })),
          /** Every session ends this long after sign-in, however busy. Default `12h`. */
          sessionMax: Type.Optional(Type.String({ pattern: '^(\\d+[smhd])+$' })),
          /**
           * `https://host[:port]` as browsers reach the server (behind a proxy, the
           * proxy's): each human issuer's OIDC redirect URI is
           * `<publicOrigin>/auth/callback/<issuer name>`, and over https the cookie is
           * `Secure` and `__Host-`. Default: each request's own.
           */
          publicOrigin: Type.Optional(
            Type.String({ pattern: '^https?://[A-Za-z0-9.:\\[\\]-]{1,255}$' }),
          ),
          /** The built console; default `<package root>/dist/console`. */
          staticDir: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    webhooks: Type.Optional(
      Type.Array(
        Type.Object(
          {
            url: Type.String({ pattern: '^https?://' }),
            secretEnv: Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' }),
            events: Type.Array(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))), {
              minItems: 1,
            }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type ConfigFile = Static<typeof ConfigSchema>;

/**
 * Refuses two principals with one id: each would authenticate by its own token as the
 * same principal, with roles and groups that depend on which token was used.
 */
export function assertUniquePrincipals(principals: readonly { id: string }[], where: string): void {
  const seen = new Set<string>();
  for (const { id } of principals) {
    if (seen.has(id)) {
      throw new CountersignError<ConfigErrorCode>(
        'CONFIG_INVALID',
        `${where}: principal ${id} is declared more than once`,
      );
    }
    seen.add(id);
  }
}

/**
 * A union's own error says only "Expected union value": name instead what is wrong in
 * the variant the value meant (for connectors, the one whose `kind` it names).
 */
function explained(e: ValueError | undefined): ValueError | undefined {
  if (e === undefined || e.errors.length === 0) return e;
  const variants = e.errors.map((it) => [...it]);
  const meant = variants.find((v) => !v.some((x) => x.path === `${e.path}/kind`));
  return meant?.[0] ?? e;
}

/** Reads and validates a config file; relative paths in it resolve against its folder. */
export function loadConfigFile(path: string): ConfigFile {
  let doc: unknown;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new CountersignError<ConfigErrorCode>('CONFIG_INVALID', `config ${path}: ${code}`);
  }
  try {
    // Neither parser's message quotes the file: a line of it may hold a password.
    doc = extname(path) === '.json' ? parseStrictJson(text) : parseYamlText(text);
  } catch (e) {
    const why = isCountersignError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
    throw new CountersignError<ConfigErrorCode>('CONFIG_INVALID', `config ${path}: ${why}`);
  }
  const first = explained(Value.Errors(ConfigSchema, doc).First());
  if (first) {
    throw new CountersignError<ConfigErrorCode>(
      'CONFIG_INVALID',
      `config ${path}: ${first.path || '/'}: ${first.message}`,
    );
  }
  const cfg = doc as ConfigFile;
  assertUniquePrincipals(cfg.principals ?? [], `config ${path}: /principals`);
  assertWebhookEntries(cfg.webhooks ?? [], `config ${path}: /webhooks`);
  const base = dirname(resolve(path));
  const rel = (p: string | undefined) => (p === undefined ? undefined : resolve(base, p));
  return {
    ...cfg,
    ...(cfg.dataDir ? { dataDir: rel(cfg.dataDir) } : {}),
    ...(cfg.policyFile ? { policyFile: rel(cfg.policyFile) } : {}),
    ...(cfg.kekFile ? { kekFile: rel(cfg.kekFile) } : {}),
    ...(cfg.console?.staticDir
      ? { console: { ...cfg.console, staticDir: rel(cfg.console.staticDir) } }
      : {}),
    ...(cfg.oidc
      ? {
          oidc: {
            ...cfg.oidc,
            issuers: cfg.oidc.issuers.map((i) =>
              i.clientSecretFile === undefined
                ? i
                : { ...i, clientSecretFile: rel(i.clientSecretFile) },
            ),
          },
        }
      : {}),
    ...(cfg.connectors
      ? {
          connectors: cfg.connectors.map((c) =>
            c.kind === 'webhook'
              ? c.tokenFile === undefined
                ? c
                : { ...c, tokenFile: rel(c.tokenFile) }
              : c.urlFile === undefined
                ? c
                : { ...c, urlFile: rel(c.urlFile) },
          ),
        }
      : {}),
  } as ConfigFile;
}

/** The port used when neither `--port`, `COUNTERSIGN_PORT` nor the config's `port` names one. */
export const DEFAULT_PORT = 8470;

/**
 * The port to listen on: `--port`, else `COUNTERSIGN_PORT`, else the config file's
 * `port`, else {@link DEFAULT_PORT}. A value that is not a whole number from 0 to 65535
 * is refused (`0` asks the system for a free port).
 */
export function listenPort(
  flag: number | undefined,
  env: NodeJS.ProcessEnv,
  file: ConfigFile,
): number {
  if (flag !== undefined) return checkedPort(String(flag), '--port');
  const fromEnv = env.COUNTERSIGN_PORT;
  if (fromEnv !== undefined && fromEnv !== '') return checkedPort(fromEnv, 'COUNTERSIGN_PORT');
  return file.port ?? DEFAULT_PORT;
}

function checkedPort(text: string, source: string): number {
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new CountersignError<ConfigErrorCode>(
      'CONFIG_INVALID',
      `${source}: a port is a whole number from 0 to 65535`,
    );
  }
  return port;
}

/** Where `metrics.listen` asks for the unauthenticated scrape port, or null for nowhere. */
export function metricsListen(file: ConfigFile): { host: string; port: number } | null {
  const listen = file.metrics?.listen;
  if (listen === undefined) return null;
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: checkedPort(listen.slice(colon + 1), 'metrics.listen') };
}

/**
 * A redemption holds a connection for one statement, so a few more connections than
 * the database's cores keep it busy; beyond that they only queue inside PostgreSQL.
 */
const DEFAULT_DATABASE_POOL = 16;

/** PostgreSQL connections per node: `COUNTERSIGN_DATABASE_POOL`, else `databasePool`. */
export function databasePool(
  env: Readonly<Record<string, string | undefined>>,
  file: Pick<ConfigFile, 'databasePool'>,
): number {
  const text = env.COUNTERSIGN_DATABASE_POOL;
  if (text === undefined) return file.databasePool ?? DEFAULT_DATABASE_POOL;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 1000) {
    throw new CountersignError<ConfigErrorCode>(
      'CONFIG_INVALID',
      'COUNTERSIGN_DATABASE_POOL must be an integer from 1 to 1000',
    );
  }
  return n;
}
