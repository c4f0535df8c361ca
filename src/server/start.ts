import { readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { OffsetClock, systemClock, type Clock } from '../core/clock.js';
import { CountersignError } from '../core/errors.js';
import type { PrincipalId } from '../core/ids.js';
import { buildApp } from '../http/app.js';
import type { ApiTokenPrincipal } from '../identity/api-tokens.js';
import { KeyRingHolder } from '../keys/holder.js';
import { parseKek, type KeyErrorCode } from '../keys/seal.js';
import { parsePolicyText } from '../policy/load.js';
import type { ServiceContext } from '../service/context.js';
import { loadOrCreateKeyRing } from '../service/keys.js';
import { databaseKind, openStore } from '../store/open.js';
import type { Store } from '../service/ports/store.js';
import {
  assertUniquePrincipals,
  databasePool,
  listenPort,
  loadConfigFile,
  metricsListen,
  type ConfigErrorCode,
  type ConfigFile,
} from './config.js';
import { bootstrapDevDataDir } from './dev.js';
import { wireIdentity } from './identity.js';
import { isLoopbackHost } from '../core/loopback.js';
import { wireConsole } from './console.js';
import { logStall } from '../service/log-health.js';
import { Integrator } from './integrator.js';
import { workerPlanner } from './reconcile-runner.js';
import { every } from './periodic.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { reconcilePasses } from '../http/routes/reconcile.js';
import { ObserveTracker, sweepObservations } from '../service/connector-observe.js';
import { sweepRevocations } from '../service/revocations.js';
import { buildConnectors } from './connectors.js';
import { hostname } from 'node:os';
import type { WebhookTarget } from '../service/webhooks.js';
import { parseDuration } from '../core/duration.js';
import { ServerMetrics } from '../http/metrics/registry.js';
import { listenForScrapes } from './metrics-listener.js';

export interface ServeOptions {
  readonly dev: boolean;
  readonly configFile?: string;
  readonly dataDir?: string;
  readonly port?: number;
  readonly host?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly url: string;
  /** Dev mode: the file holding the dev tokens, and whether this start created them. */
  readonly devTokens: { readonly file: string; readonly created: boolean } | null;
  close(): Promise<void>;
}

function kekFrom(env: NodeJS.ProcessEnv, file: string | undefined): Buffer | null {
  if (env.COUNTERSIGN_KEK) return parseKek(env.COUNTERSIGN_KEK);
  const path = env.COUNTERSIGN_KEK_FILE ?? file;
  return path ? parseKek(readFileSync(path, 'utf8')) : null;
}

function webhookTargets(file: ConfigFile, env: NodeJS.ProcessEnv): WebhookTarget[] {
  return (file.webhooks ?? []).map((w) => {
    const secret = env[w.secretEnv];
    if (!secret) {
      throw new CountersignError<ConfigErrorCode>(
        'CONFIG_INVALID',
        `webhook ${w.url}: environment variable ${w.secretEnv} is not set`,
      );
    }
    return { url: w.url, secret, events: w.events };
  });
}

/** A duration setting in milliseconds, refused as `CONFIG_INVALID` before anything opens. */
function durationSetting(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (cause) {
    throw new CountersignError<ConfigErrorCode>(
      'CONFIG_INVALID',
      `${name}: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** Wires configuration, store, keys, policy and HTTP, and starts listening. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const env = opts.env ?? process.env;
  const file: ConfigFile = opts.configFile ? loadConfigFile(opts.configFile) : {};
  const port = listenPort(opts.port, env, file);
  const dataDir = resolve(opts.dataDir ?? file.dataDir ?? './data');
  const databaseUrl =
    env.COUNTERSIGN_DATABASE_URL ?? file.database ?? `sqlite:${join(dataDir, 'countersign.db')}`;
  // Refused before the dev data dir is made: a URL no store serves leaves nothing behind.
  databaseKind(databaseUrl);
  const dev = opts.dev ? bootstrapDevDataDir(dataDir) : null;
  const principals: ApiTokenPrincipal[] = [...(dev?.principals ?? []), ...(file.principals ?? [])];
  if (dev) assertUniquePrincipals(principals, 'dev principals and config');
  const policyFile = file.policyFile ?? dev?.policyFile;
  if (!policyFile) {
    throw new CountersignError<ConfigErrorCode>(
      'CONFIG_INVALID',
      'no policy: set policyFile in the config',
    );
  }
  const policy = parsePolicyText(
    readFileSync(policyFile, 'utf8'),
    extname(policyFile) === '.json' ? 'json' : 'yaml',
  );
  const kek = kekFrom(env, file.kekFile ?? dev?.kekFile);
  if (!kek) {
    throw new CountersignError<KeyErrorCode>(
      'KEK_MISSING',
      'no key-encryption key: set COUNTERSIGN_KEK or COUNTERSIGN_KEK_FILE (or kekFile in the config)',
    );
  }
  const driftGraceMs = durationSetting('driftGrace', file.driftGrace);
  const devClock = opts.dev ? new OffsetClock() : undefined;
  const clock: Clock = devClock ?? systemClock;
  const webhooks = webhookTargets(file, env);
  const store = await openStore(databaseUrl, { poolMax: databasePool(env, file) });
  // Passes are planned off the serving thread, on a connection of their own.
  const planner = workerPlanner(databaseUrl);
  // A configuration refused from here on must not leave the store (and its workers) open.
  const closingStore = async <T>(step: () => Promise<T> | T): Promise<T> => {
    try {
      return await step();
    } catch (e) {
      await store.close().catch(() => undefined);
      throw e;
    }
  };
  const identity = await closingStore(() => wireIdentity(file.oidc, principals, clock, store));
  const host = opts.host ?? file.host ?? '127.0.0.1';
  const consoleOptions = await closingStore(() =>
    wireConsole({
      file,
      oidc: identity.oidc,
      verifier: identity.verifier,
      clock,
      env,
      devPrincipals: dev?.principals ?? null,
      loopback: isLoopbackHost(host),
    }),
  );
  const keys = new KeyRingHolder(
    await closingStore(() => loadOrCreateKeyRing(store, kek, clock)),
    kek,
  );
  // The integrator is made once the app's logger exists (below); services reach it here.
  const log: { integrator?: Integrator } = {};
  const connectors = await closingStore(async () =>
    buildConnectors(file.connectors ?? [], env, clock, () => keys.ring),
  );
  const brokerHealth = new ObserveTracker();
  const revocationInterval = parseDuration(file.revocationInterval ?? '15s');
  const ctx: ServiceContext = {
    store,
    integrateLog: () => log.integrator?.flush() ?? Promise.resolve(),
    clock,
    keys: () => keys.ring,
    keyAdmin: keys,
    policy,
    issuer: file.issuer ?? 'countersign',
    identity: identity.settings,
    webhooks,
    reconcile: {
      ...(driftGraceMs === undefined ? {} : { driftGraceMs }),
      ...(planner === null ? {} : { planner }),
    },
    connectors,
    brokerHealth,
    revocationLeadMs: revocationInterval,
    directory: principals.map((p) => ({
      id: p.id as PrincipalId,
      roles: p.roles,
      groups: p.groups ?? [],
    })),
  };
  const origin = file.logOrigin ?? 'countersign.local/log';
  const metrics = new ServerMetrics({ store, clock });
  // The scheduled passes and the API's share one gate: one pass at a time on this node.
  const passes = reconcilePasses(ctx, metrics);
  const lagBoundMs = parseDuration(file.integrationLagBound ?? '30s');
  const app = await buildApp({
    origin,
    readiness: async () =>
      log.integrator ? logStall(store.read, clock.now(), lagBoundMs, log.integrator.health) : null,
    ctx,
    authenticator: identity.authenticator,
    logger: { level: env.COUNTERSIGN_LOG_LEVEL ?? file.logLevel ?? 'info' },
    ...(file.bodyLimit ? { bodyLimit: file.bodyLimit } : {}),
    loadLimits: {
      ...(file.maxInFlight === undefined ? {} : { maxInFlight: file.maxInFlight }),
      ...(file.maxEventLoopDelayMs === undefined
        ? {}
        : { maxEventLoopDelayMs: file.maxEventLoopDelayMs }),
      ...(file.maxHeapUsedMb === undefined
        ? {}
        : { maxHeapUsedBytes: file.maxHeapUsedMb * 1024 * 1024 }),
    },
    ...(devClock ? { devClock } : {}),
    metrics,
    console: consoleOptions,
    passes,
  });
  const integrator = new Integrator(
    { store, clock, keys: () => keys.ring, reloadKeys: (r) => keys.reload(r), origin },
    app.log,
  );
  // Services reach it from the first request on: before, a reader's flush between listen
  // and here did nothing, and it read a log without the events queued before it.
  log.integrator = integrator;
  const url = await closingStore(() => app.listen({ host, port }));
  const scrapeAt = metricsListen(file);
  const scrapes =
    scrapeAt === null
      ? null
      : await closingStore(() =>
          listenForScrapes(metrics, scrapeAt).catch(async (e: unknown) => {
            await app.close();
            throw e;
          }),
        );
  if (scrapes) app.log.info({ url: `${scrapes.url}/metrics` }, 'metrics scrape port open');
  integrator.start();
  const reconciler = every(
    parseDuration(file.reconcileInterval ?? '1m'),
    'reconciliation',
    () => passes.run(),
    app.log,
  );
  // Every node sweeps; the lease in the store lets exactly one revoke each grant.
  const node = `${hostname()}:${process.pid}`;
  const revocations = every(
    revocationInterval,
    'grant revocation',
    async () => void (await sweepRevocations(ctx, { node })),
    app.log,
  );
  const observations = every(
    parseDuration(file.observeInterval ?? '15s'),
    'connector observation',
    async () => void (await sweepObservations(ctx, brokerHealth)),
    app.log,
  );
  const dispatcher = new WebhookDispatcher(store, clock, webhooks, app.log, metrics.webhooks);
  dispatcher.start();
  // Other nodes may rotate or revoke keys: pick up the stored key set (the holder keeps
  // its ring, and the ring's verified-token cache, while the set is unchanged).
  const keyRefresh = every(
    15_000,
    'key ring refresh',
    () => keys.refresh(store.read.keys),
    app.log,
  );
  const spentTokens = every(
    60_000,
    'spent-token pruning',
    () => identity.pruneSpentTokens(),
    app.log,
  );
  return {
    app,
    store,
    url,
    devTokens: dev ? { file: dev.tokensFile, created: dev.created } : null,
    async close() {
      await scrapes?.close();
      await app.close();
      await reconciler.stop();
      await revocations.stop();
      await observations.stop();
      await keyRefresh.stop();
      await spentTokens.stop();
      await dispatcher.stop();
      await integrator.stop();
      await Promise.all([...connectors.values()].map((c) => c.close()));
      await store.close();
    },
  };
}
