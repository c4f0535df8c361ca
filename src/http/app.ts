import type { ServerResponse } from 'node:http';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { OffsetClock } from '../core/clock.js';
import type { Authenticator } from '../identity/principal.js';
import type { ServiceContext } from '../service/context.js';
import { installAuth } from './auth.js';
import { consoleAuthRoutes } from './console/auth-routes.js';
import { sessionAuthenticator } from './console/guard.js';
import { installSecurityHeaders } from './console/headers.js';
import type { ConsoleOptions } from './console/options.js';
import { installConsoleFiles } from './console/static.js';
import { installJsonBodies } from './body.js';
import { answerClientError } from './client-error.js';
import { answerError } from './errors.js';
import { problem } from './problem.js';
import { chainRoutes } from './routes/chain.js';
import { keyRoutes } from './routes/keys.js';
import { logRoutes } from './routes/log.js';
import { reconcilePasses, reconcileRoutes } from './routes/reconcile.js';
import type { PassGate } from '../service/reconcile-gate.js';
import type { ReconcileSummary } from '../service/reconcile.js';
import { installLoadShedding, type LoadLimits } from './shed.js';
import { installRedemptionMetrics } from './metrics/redemptions.js';
import type { ServerMetrics } from './metrics/registry.js';
import { metricsRoutes } from './metrics/route.js';
import { redactedRequest } from './log-redact.js';
import { publicRoutes } from './routes/public.js';
import { routeMethods } from './methods.js';
import { redactedPath } from './log-redact.js';
import { requestRoutes } from './routes/requests.js';

/** Bytes of request body read before answering 413 BODY_TOO_LARGE. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;

export interface AppOptions {
  readonly ctx: ServiceContext;
  readonly authenticator: Authenticator;
  readonly logger?: boolean | { level: string };
  readonly bodyLimit?: number;
  readonly devClock?: OffsetClock;
  readonly origin: string;
  /** Why the node is not ready beyond its database (a stalled log), or null when it is. */
  readonly readiness?: () => Promise<string | null>;
  /** Load-shedding limits; unset fields take the defaults in `shed.ts`. */
  readonly loadLimits?: Partial<LoadLimits>;
  /** This server's metrics: the app feeds them and serves them at `GET /metrics`. */
  readonly metrics: ServerMetrics;
  /** The console's sign-in, sessions and files; without it the console is not served. */
  readonly console?: ConsoleOptions;
  /** The node's reconciliation passes, if its scheduler shares them; else the app's own. */
  readonly passes?: PassGate<ReconcileSummary>;
}

/** Builds the Fastify application: strict JSON in, RFC 9457 problems out. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      opts.logger === false
        ? false
        : {
            level: typeof opts.logger === 'object' ? opts.logger.level : 'info',
            redact: {
              paths: ['req.headers.authorization', 'req.headers.cookie'],
              censor: '[redacted]',
            },
            serializers: { req: redactedRequest },
          },
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    // The longest id a path names is an NHI id (233 characters, its `/`s encoded as %2F):
    // the router's default of 100 refused ids the API had registered. The schemas bound
    // each decoded parameter.
    routerOptions: { maxParamLength: 1024 },
    clientErrorHandler: answerClientError,
    // Errors raised by the router itself (an undecodable path such as `%C0%AF`) bypass the
    // error handler; answer them as problems too, without echoing the path.
    frameworkErrors: (_err, _req, reply) => {
      void (reply as FastifyReply)
        .code(400)
        .type('application/problem+json')
        .send(problem('VALIDATION_FAILED', 'the request path is not a valid URL'));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // Before load shedding, so a refusal carries the headers too.
  installSecurityHeaders(app);
  // First hook of all: an overloaded server refuses before reading or changing state.
  installLoadShedding(app, opts.loadLimits ?? {}, (reason) => opts.metrics.shed.inc({ reason }));
  installJsonBodies(app);
  app.setErrorHandler(answerError);
  // Node answers an `Expect` other than 100-continue itself, with a bare 417, unless
  // someone listens: answer it as a problem too.
  app.server.on('checkExpectation', (_req, res: ServerResponse) => {
    const body = JSON.stringify(
      problem('EXPECTATION_FAILED', 'only `Expect: 100-continue` is understood'),
    );
    res
      .writeHead(417, {
        'content-type': 'application/problem+json',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      })
      .end(body);
  });

  const methodsAt = routeMethods(app);
  app.setNotFoundHandler((req, reply) => {
    const path = redactedPath(req.url);
    const allowed = methodsAt(path);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .type('application/problem+json')
        .send(problem('METHOD_NOT_ALLOWED', `this route takes ${allowed.join(', ')}`, path));
    }
    return reply
      .code(404)
      .type('application/problem+json')
      .send(problem('NOT_FOUND', 'no such route', path));
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'countersign',
        version: '0.1.0',
        description: 'Approval integrity for non-human identities.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(cookie);
  installAuth(app, opts.authenticator, opts.console && sessionAuthenticator(opts.console));
  installRedemptionMetrics(app, opts.metrics);
  const routeOpts = {
    ctx: opts.ctx,
    origin: opts.origin,
    metrics: opts.metrics,
    passes: opts.passes ?? reconcilePasses(opts.ctx, opts.metrics),
    ...(opts.readiness ? { readiness: opts.readiness } : {}),
    ...(opts.devClock ? { devClock: opts.devClock } : {}),
  };
  await app.register(publicRoutes, routeOpts);
  await app.register(chainRoutes, routeOpts);
  await app.register(requestRoutes, routeOpts);
  await app.register(logRoutes, routeOpts);
  await app.register(keyRoutes, routeOpts);
  await app.register(reconcileRoutes, routeOpts);
  await app.register(metricsRoutes, { metrics: opts.metrics });
  if (opts.console) await app.register(consoleAuthRoutes, { console: opts.console });
  await installConsoleFiles(app, opts.console?.staticDir ?? null);
  app.get('/openapi.json', { schema: { hide: true }, config: { roles: 'public' } }, () =>
    app.swagger(),
  );
  return app;
}
